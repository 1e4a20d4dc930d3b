// hints.test — a push's hints applied to a real TanStack QueryClient, and the
// query keys each channel kind maps to.
import { QueryClient } from '@tanstack/query-core';
import { describe, expect, it } from 'vitest';
import { applyHints, channelQueryKeys } from '../src/hints.js';

describe('applyHints', () => {
  it('invalidates the listed keys (and only those)', async () => {
    const qc = new QueryClient();
    qc.setQueryData(['comments', 'chapter', 7], { items: [] });
    qc.setQueryData(['comments', 'chapter', 8], { items: [] });
    applyHints(qc, { invalidate: [['comments', 'chapter', 7]] });
    expect(qc.getQueryState(['comments', 'chapter', 7])?.isInvalidated).toBe(true);
    expect(qc.getQueryState(['comments', 'chapter', 8])?.isInvalidated).toBe(false);
  });

  it('puts set.data under set.key', () => {
    const qc = new QueryClient();
    applyHints(qc, { set: { key: ['me', 'balance'], data: { coins: 42 } } });
    expect(qc.getQueryData(['me', 'balance'])).toEqual({ coins: 42 });
  });

  it('keeps a newer version: an older balance.updated arriving late does not overwrite it', () => {
    const qc = new QueryClient();
    applyHints(qc, { set: { key: ['me', 'balance'], data: { coins: 30, version: 7 } } });
    applyHints(qc, { set: { key: ['me', 'balance'], data: { coins: 50, version: 6 } } });
    expect(qc.getQueryData(['me', 'balance'])).toEqual({ coins: 30, version: 7 });
    applyHints(qc, { set: { key: ['me', 'balance'], data: { coins: 10, version: 8 } } });
    expect(qc.getQueryData(['me', 'balance'])).toEqual({ coins: 10, version: 8 });
    // Without versions on both sides, the push wins (as before).
    applyHints(qc, { set: { key: ['me', 'balance'], data: { coins: 3 } } });
    expect(qc.getQueryData(['me', 'balance'])).toEqual({ coins: 3 });
  });

  it('ignores hints of the wrong shape', () => {
    const qc = new QueryClient();
    applyHints(qc, { invalidate: 'x', set: { key: 'y', data: 1 } } as never);
    expect(qc.getQueryCache().getAll()).toHaveLength(0);
  });
});

describe('channelQueryKeys', () => {
  it("names the server's query keys for each channel kind", () => {
    expect(channelQueryKeys('comments:chapter:12')).toEqual([['comments', 'chapter', 12]]);
    expect(channelQueryKeys('books:5')).toEqual([['books', 5]]);
    expect(channelQueryKeys('user:me')).toEqual([['me']]);
    expect(channelQueryKeys('collab:chapter:3')).toEqual([['channels', 'collab:chapter:3', 'presence']]);
    expect(channelQueryKeys('other:1')).toEqual([]);
  });
});
