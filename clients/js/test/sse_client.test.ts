// sse_client.test — createClient over a fake EventSource: one stream for the
// channel set, pushes by event name with hints applied, resume with the last
// event id after a failure (with backoff), a fresh stream (no id, carried-over
// channels refetched) when the set changes, and no stream without channels;
// a stream refused before it opened is asked its status (a fake fetch): 401
// stops as unauthorized, 400 after a resume id comes back once without it;
// a resumed stream's `event: recovered` invalidates the channels it names.
import { QueryClient } from '@tanstack/query-core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client.js';
import type { FetchLike, StateEvent } from '../src/types.js';
import { FakeEventSource } from './fakes.js';

function setup(fetch: FetchLike | null = null) {
  const queryClient = new QueryClient();
  const client = createClient({
    url: 'http://node.test/',
    token: 'tok',
    transport: 'sse',
    EventSource: FakeEventSource,
    fetch,
    queryClient,
    network: null,
    backoff: { baseMs: 100, maxMs: 1000 },
    random: () => 0,
  });
  const states: StateEvent[] = [];
  client.on('state', (s) => states.push(s));
  return { client, queryClient, states };
}

beforeEach(() => {
  FakeEventSource.instances = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('sse client', () => {
  it('opens one stream for the channels subscribed together, with the token', () => {
    const { client } = setup();
    client.subscribe('user:me');
    client.subscribe('comments:chapter:7');
    vi.runOnlyPendingTimers();
    const source = FakeEventSource.last;
    expect(source.params.get('channels')).toBe('comments:chapter:7,user:me');
    expect(source.params.get('access_token')).toBe('tok');
    expect(source.params.has('last_event_id')).toBe(false);
    expect(FakeEventSource.instances.filter((s) => !s.closed)).toHaveLength(1);
  });

  it('delivers named events to handlers and applies their hints', () => {
    const { client, queryClient } = setup();
    const events: string[] = [];
    client.subscribe('user:me', (p) => events.push(p.event));
    const source = FakeEventSource.last;
    source.open();
    expect(client.state).toBe('open');
    source.emit('balance.updated', 'ab.1', {
      channel: 'user:42',
      offset: '1',
      event: 'balance.updated',
      data: { coins: 5 },
      hints: { set: { key: ['me', 'balance'], data: { coins: 5 } } },
    });
    source.emit('notification.created', 'ab.2', {
      channel: 'user:42',
      offset: '2',
      event: 'notification.created',
      data: {},
      hints: { invalidate: [['me', 'notifications']] },
    });
    expect(events).toEqual(['balance.updated', 'notification.created']);
    expect(queryClient.getQueryData(['me', 'balance'])).toEqual({ coins: 5 });
    expect(client.offset('user:me')).toBe('2');
  });

  it('after a failure comes back with backoff and the last event id', () => {
    const { client, states } = setup();
    client.subscribe('comments:chapter:7');
    let source = FakeEventSource.last;
    source.open();
    source.emit('comment.created', 'cafe.10', { channel: 'comments:chapter:7', offset: '10', event: 'comment.created', data: {} });
    source.error();
    expect(source.closed).toBe(true); // the EventSource's own retry is cut short
    expect(states.at(-1)).toMatchObject({ state: 'waiting', retryInMs: 50 });
    vi.advanceTimersByTime(50);
    source = FakeEventSource.last;
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(source.params.get('last_event_id')).toBe('cafe.10');
    source.error(); // refused: the next wait is longer
    expect(states.at(-1)).toMatchObject({ state: 'waiting', retryInMs: 100 });
  });

  it('a stream refused with 401 stops: state unauthorized, never retried with the token', async () => {
    const asked: string[] = [];
    const { client, states } = setup(async (url) => {
      asked.push(url);
      return { status: 401 };
    });
    client.subscribe('user:me');
    FakeEventSource.last.error();
    await vi.runAllTimersAsync();
    expect(asked).toHaveLength(1);
    expect(new URL(asked[0]).searchParams.get('channels')).toBe('user:me');
    expect(states.at(-1)).toMatchObject({ state: 'unauthorized', code: 401 });
    expect(FakeEventSource.instances).toHaveLength(1); // no retry
  });

  it('a refused resume id (400) is dropped: one reconnect at once without it, and the channels are refetched', async () => {
    const statuses = [400];
    const { client, queryClient, states } = setup(async () => ({ status: statuses.shift() ?? 200 }));
    queryClient.setQueryData(['comments', 'chapter', 7], { items: [] });
    client.subscribe('comments:chapter:7');
    const first = FakeEventSource.last;
    first.open();
    first.emit('comment.created', 'stale.10', { channel: 'comments:chapter:7', offset: '10', event: 'comment.created', data: {} });
    first.error(); // a failure after it opened: backoff, resume with the id
    expect(states.at(-1)).toMatchObject({ state: 'waiting' });
    vi.advanceTimersByTime(50);
    const resumed = FakeEventSource.last;
    expect(resumed.params.get('last_event_id')).toBe('stale.10');
    resumed.error(); // refused before it opened: the fake fetch answers 400
    await vi.advanceTimersByTimeAsync(0); // 'now': random() * base = 0 here
    expect(states.find((e) => e.code === 400)).toMatchObject({ state: 'waiting', retryInMs: 0 });
    const fresh = FakeEventSource.last;
    expect(FakeEventSource.instances).toHaveLength(3);
    expect(fresh.params.has('last_event_id')).toBe(false);
    fresh.open();
    expect(queryClient.getQueryState(['comments', 'chapter', 7])?.isInvalidated).toBe(true);
  });

  it("a resumed stream's `recovered` event invalidates the channels the node could not recover, and only those", () => {
    const { client, queryClient } = setup();
    const recovered: unknown[] = [];
    client.on('recovered', (e) => recovered.push(e));
    client.subscribe('comments:chapter:7');
    client.subscribe('books:3');
    vi.runOnlyPendingTimers();
    const first = FakeEventSource.last;
    first.open();
    first.emit('comment.created', 'ab.10', { channel: 'comments:chapter:7', offset: '10', event: 'comment.created', data: {} });
    first.error();
    vi.advanceTimersByTime(50);
    const resumed = FakeEventSource.last;
    expect(resumed.params.get('last_event_id')).toBe('ab.10');
    queryClient.setQueryData(['comments', 'chapter', 7], { items: [] });
    queryClient.setQueryData(['books', 3], { id: 3 });
    resumed.open();
    expect(queryClient.getQueryState(['comments', 'chapter', 7])?.isInvalidated).toBe(false);
    resumed.emit('recovered', 'ab.99', { channels: { 'comments:chapter:7': false } });
    expect(queryClient.getQueryState(['comments', 'chapter', 7])?.isInvalidated).toBe(true);
    expect(queryClient.getQueryState(['books', 3])?.isInvalidated).toBe(false);
    expect(recovered).toContainEqual({ channel: 'comments:chapter:7', recovered: false });
    expect(recovered).not.toContainEqual({ channel: 'books:3', recovered: false });
    resumed.error(); // the next resume starts from the recovered event's id
    vi.advanceTimersByTime(50);
    expect(FakeEventSource.last.params.get('last_event_id')).toBe('ab.99');
  });

  it('any other refusal is an ordinary failure with backoff', async () => {
    const { client, states } = setup(async () => ({ status: 503 }));
    client.subscribe('books:1');
    FakeEventSource.last.error();
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)).toMatchObject({ state: 'waiting', code: 503, retryInMs: 50 });
  });

  it('reopens without a resume id when the channel set changes, and refetches what the gap may have hidden', () => {
    const { client, queryClient } = setup();
    const recovered: unknown[] = [];
    client.on('recovered', (e) => recovered.push(e));
    queryClient.setQueryData(['comments', 'chapter', 7], { items: [] });
    client.subscribe('comments:chapter:7');
    const first = FakeEventSource.last;
    first.open();
    first.emit('comment.created', 'cafe.10', { channel: 'comments:chapter:7', offset: '10', event: 'comment.created', data: {} });
    client.subscribe('books:3');
    client.subscribe('books:4');
    vi.runOnlyPendingTimers();
    expect(first.closed).toBe(true);
    expect(FakeEventSource.instances).toHaveLength(2); // one reopen for the burst
    const second = FakeEventSource.last;
    expect(second.params.get('channels')).toBe('books:3,books:4,comments:chapter:7');
    expect(second.params.has('last_event_id')).toBe(false);
    second.open();
    expect(queryClient.getQueryState(['comments', 'chapter', 7])?.isInvalidated).toBe(true);
    expect(recovered).toEqual([{ channel: 'comments:chapter:7', recovered: false }]);
  });

  it('closes the stream when the last channel goes, and opens a new one on the next subscribe', () => {
    const { client } = setup();
    const off = client.subscribe('books:3');
    const source = FakeEventSource.last;
    source.open();
    off();
    expect(source.closed).toBe(true);
    expect(client.state).toBe('idle');
    vi.runOnlyPendingTimers();
    expect(FakeEventSource.instances).toHaveLength(1);
    client.subscribe('books:4');
    expect(FakeEventSource.last.params.get('channels')).toBe('books:4');
  });

  it('refuses to publish: that needs the WebSocket transport', async () => {
    const { client } = setup();
    await expect(client.publish('collab:chapter:1', {})).rejects.toMatchObject({ code: 'unsupported' });
  });
});
