// cache_freshness — one node's cached reads of every resource kind: shapes,
// X-Cache, ETag and 304; keyset pages of /api/books; negative caching; the
// freshness of a value (stale-while-revalidate: a stale value is served at
// once while ONE background load refreshes it); the bound on the node-local
// cache (entries and bytes); and the cache figures in /stats and /metrics.
// Never: waits for time to pass by sleeping — freshness is read from the value
// the node stored in Redis (`<fresh_until_ms> <load_ms> <json>`) — or changes
// rows a cached value depends on except to prove a refresh reloaded them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode, uniquePrefix, createBook, createChapter, createUser, statementCalls, sql, api, stats,
  cachedValue, valueKey, waitFor,
} from './lib/harness.mjs';

const BOOK_QUERY = 'FROM books WHERE id = $1';
const ETAG = /^(W\/)?"[^"]+"$/;

const get = (node, path, headers) => api(node, 'GET', path, { headers });
const keysOf = (o) => Object.keys(o).sort();

test('every cached resource answers X-Cache, an ETag and 304, with the contract shape', async () => {
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: uniquePrefix('kinds') } });
  const authorId = createUser({ displayName: 'Shape Author', bio: 'Writes shapes.' });
  const bookId = createBook('Shapes', { authorId, description: 'All the shapes' });
  const chapterId = createChapter(bookId, { title: 'First', body: 'The first body.' });
  const packages = Number(sql('SELECT count(*) FROM coin_packages'));

  const kinds = [
    [`/api/books/${bookId}`, (b) => {
      assert.deepEqual(keysOf(b), ['author_id', 'chapter_count', 'description', 'id', 'published', 'title', 'updated_at']);
      assert.equal(b.id, bookId);
      assert.equal(b.author_id, authorId);
      assert.equal(b.chapter_count, 1);
      assert.equal(b.description, 'All the shapes');
    }],
    [`/api/books?limit=20&after=${bookId - 1}`, (b) => {
      assert.deepEqual(keysOf(b), ['items', 'next']);
      assert.equal(b.items[0].id, bookId);
      assert.equal(b.items[0].title, 'Shapes');
      assert.ok(b.items.length <= 20);
      assert.ok(b.items.every((i) => i.published === true), 'published books only');
      assert.ok(b.items.every((i, n) => n === 0 || i.id > b.items[n - 1].id), 'ascending ids');
    }],
    [`/api/books/${bookId}/chapters`, (b) => {
      assert.deepEqual(keysOf(b), ['items']);
      assert.equal(b.items.length, 1);
      assert.deepEqual(keysOf(b.items[0]), ['book_id', 'id', 'number', 'title', 'updated_at']);
      assert.deepEqual([b.items[0].id, b.items[0].book_id, b.items[0].number, b.items[0].title], [chapterId, bookId, 1, 'First']);
    }],
    [`/api/chapters/${chapterId}`, (b) => {
      assert.deepEqual(keysOf(b), ['body', 'book_id', 'id', 'number', 'title', 'updated_at']);
      assert.deepEqual([b.id, b.book_id, b.number, b.title, b.body], [chapterId, bookId, 1, 'First', 'The first body.']);
      assert.match(b.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    }],
    [`/api/users/${authorId}`, (b) => {
      assert.deepEqual(keysOf(b), ['bio', 'display_name', 'follower_count', 'id', 'username']);
      assert.deepEqual([b.id, b.display_name, b.bio, b.follower_count], [authorId, 'Shape Author', 'Writes shapes.', 0]);
    }],
    ['/api/coin-packages', (b) => {
      assert.deepEqual(keysOf(b), ['items']);
      assert.equal(b.items.length, packages);
      for (const p of b.items) {
        assert.deepEqual(keysOf(p), ['coins', 'id', 'label', 'price_cents']);
        assert.equal(typeof p.coins, 'number');
        assert.equal(typeof p.price_cents, 'number');
        assert.equal(typeof p.label, 'string');
      }
    }],
  ];

  for (const [path, check] of kinds) {
    const first = await get(node, path);
    assert.equal(first.status, 200, `${path}: ${first.text}`);
    assert.match(first.headers.get('content-type'), /^application\/json/);
    assert.equal(first.cache, 'miss', `${path}: first read`);
    assert.match(first.etag ?? '', ETAG, `${path}: ETag`);
    // Writable resources revalidate on every use; coin packages change only
    // by deployment and may be kept a minute.
    const expected = path === '/api/coin-packages' ? 'public, max-age=60' : 'no-cache';
    assert.equal(first.headers.get('cache-control'), expected, `${path}: Cache-Control`);
    check(first.body);

    const second = await get(node, path);
    assert.equal(second.cache, 'hit', `${path}: second read`);
    assert.equal(second.text, first.text, `${path}: same body`);
    assert.equal(second.etag, first.etag, `${path}: same ETag`);

    const cond = await get(node, path, { 'If-None-Match': first.etag });
    assert.equal(cond.status, 304, `${path}: If-None-Match`);
    assert.equal(cond.text, '');
    assert.equal(cond.etag, first.etag);
    const other = await get(node, path, { 'If-None-Match': '"something-else"' });
    assert.equal(other.status, 200, `${path}: a different ETag gets the body`);
  }
});

test('book pages are keyset pages: published only, ascending, next = last id, null at the end', async () => {
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: uniquePrefix('pages') } });
  const authorId = createUser();
  const b1 = createBook('Page one', { authorId });
  const hidden = createBook('Page hidden', { authorId, published: false });
  const b2 = createBook('Page two', { authorId });
  const b3 = createBook('Page three', { authorId });

  const page = await get(node, `/api/books?limit=2&after=${b1 - 1}`);
  assert.equal(page.status, 200, page.text);
  assert.deepEqual(page.body.items.map((i) => i.id), [b1, b2], `the unpublished book ${hidden} is skipped`);
  assert.equal(page.body.next, b2, 'next is the last id of a full page');
  const nextPage = await get(node, `/api/books?limit=2&after=${page.body.next}`);
  assert.equal(nextPage.body.items[0].id, b3);
  assert.equal(nextPage.body.items[0].title, 'Page three');

  const end = await get(node, '/api/books?limit=20&after=9000000000000000000');
  assert.equal(end.status, 200, end.text);
  assert.deepEqual(end.body, { items: [], next: null });
});

test('a missing book is a cached 404: the second read is a hit with no database execution', async () => {
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: uniquePrefix('neg') } });
  const missing = 9100000000000000000n + BigInt(process.pid);
  const before = statementCalls(BOOK_QUERY);
  const first = await get(node, `/api/books/${missing}`);
  assert.equal(first.status, 404);
  assert.equal(first.body.error.code, 'not_found');
  assert.equal(first.cache, 'miss');
  const second = await get(node, `/api/books/${missing}`);
  assert.equal(second.status, 404);
  assert.equal(second.cache, 'hit');
  assert.deepEqual(second.body, first.body);
  const calls = statementCalls(BOOK_QUERY) - before;
  assert.equal(calls, 1, `one database execution (it ran ${calls} times)`);
});

test('stale-while-revalidate: a stale value is served at once and refreshed by one background load', async () => {
  const prefix = uniquePrefix('swr');
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: prefix, SB_CACHE_TTL_S: '1', SB_CACHE_STALE_S: '60' } });
  const id = createBook('SWR before');
  const key = valueKey(prefix, 'book', id);
  const before = statementCalls(BOOK_QUERY);

  const first = await get(node, `/api/books/${id}`);
  assert.equal(first.cache, 'miss');
  assert.equal(first.body.title, 'SWR before');
  const stored = cachedValue(key);
  assert.ok(stored, `${key} was stored in Redis`);
  assert.ok(Number.isFinite(stored.freshUntil), `value is "<fresh_until_ms> <load_ms> <json>": ${stored.raw}`);
  assert.ok(stored.freshUntil <= Date.now() + 1500, `fresh for about SB_CACHE_TTL_S=1 (fresh_until ${stored.freshUntil})`);

  await waitFor(() => {
    const v = cachedValue(key);
    return v && v.freshUntil < Date.now();
  }, { ms: 5000, what: 'the cached book to pass its fresh_until' });
  // The row changes behind the cache's back: only a reload can show this title.
  sql(`UPDATE books SET title = 'SWR after' WHERE id = ${id}`);

  const stale = await get(node, `/api/books/${id}`);
  assert.equal(stale.status, 200);
  assert.equal(stale.cache, 'stale');
  assert.equal(stale.body.title, 'SWR before', 'the stale value was answered without waiting for the reload');
  assert.equal(stale.text, first.text);

  const seen = [];
  const fresh = await waitFor(async () => {
    const res = await get(node, `/api/books/${id}`);
    seen.push(res.cache);
    return res.cache === 'hit' && res;
  }, { ms: 10000, what: 'a hit after the background refresh' });
  assert.ok(seen.every((s) => ['stale', 'coalesced', 'hit'].includes(s)), `answers while refreshing: ${seen.join()}`);
  assert.equal(fresh.body.title, 'SWR after', 'the refresh reloaded the row');
  const refreshed = cachedValue(key);
  assert.ok(refreshed && refreshed.freshUntil > stored.freshUntil, 'Redis holds a newer fresh_until');
  assert.ok(refreshed.body.includes('SWR after'));
  const calls = statementCalls(BOOK_QUERY) - before;
  assert.equal(calls, 2, `the first miss plus exactly one refresh (it ran ${calls} times)`);
});

test('the node-local cache stays within SB_CACHE_L1_MAX_ENTRIES and SB_CACHE_L1_MAX_BYTES', async () => {
  // The scan: 100k distinct keys through a node whose L1 budget is
  // 1000 entries / 200 kB.
  const node = await startNode({
    env: { SB_REDIS_KEY_PREFIX: uniquePrefix('l1'), SB_CACHE_L1_MAX_ENTRIES: '1000', SB_CACHE_L1_MAX_BYTES: '200000' },
  });
  const KEYS = 100000;
  const firstBodies = new Map();
  let next = 1;
  const worker = async () => {
    while (next <= KEYS) {
      const id = next++;
      // Existing books (the suite seeds 200) are 200s; ids beyond are cached 404s.
      const res = await get(node, `/api/books/${id}`);
      assert.ok(res.status === 200 || res.status === 404, `book ${id}: ${res.status} ${res.text}`);
      if (id <= 5) firstBodies.set(id, res.text);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));

  const { cache } = await stats(node);
  assert.ok(cache.entries > 0 && cache.entries <= 1000, `entries ${cache.entries} within 1000`);
  assert.ok(cache.l1_bytes > 0 && cache.l1_bytes <= 200000, `l1_bytes ${cache.l1_bytes} within 200000`);
  assert.ok(cache.evictions >= KEYS - 1000, `evictions ${cache.evictions} >= ${KEYS - 1000}`);
  assert.ok(cache.misses >= KEYS, `every key was loaded once (${cache.misses} misses)`);

  // Evicted keys are still served, from Redis, with the same body.
  for (const [id, text] of firstBodies) {
    const again = await get(node, `/api/books/${id}`);
    assert.equal(again.text, text, `book ${id} after eviction`);
    assert.equal(again.cache, 'hit', `book ${id} after eviction comes from Redis`);
  }
});

test('/stats and /metrics carry the cache figures', async () => {
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: uniquePrefix('figures') } });
  const id = createBook('Figures');
  assert.equal((await get(node, `/api/books/${id}`)).cache, 'miss');
  assert.equal((await get(node, `/api/books/${id}`)).cache, 'hit');

  const { cache } = await stats(node);
  for (const field of ['hits', 'misses', 'stale', 'coalesced', 'db_fetches', 'evictions', 'entries', 'l1_bytes'])
    assert.equal(typeof cache[field], 'number', `cache.${field} is a number`);
  assert.equal(cache.hits, 1);
  assert.equal(cache.misses, 1);
  assert.equal(cache.db_fetches, 1);
  assert.ok(cache.entries >= 1, 'the book is in the node-local cache');
  assert.ok(cache.l1_bytes > 0, 'and takes some bytes');

  const text = await (await fetch(`${node.url}/metrics`)).text();
  assert.match(text, /^# TYPE switchboard_cache_hits_total counter$/m);
  const m = /^switchboard_cache_hits_total (\d+)$/m.exec(text);
  assert.ok(m, 'switchboard_cache_hits_total is exported');
  assert.equal(Number(m[1]), cache.hits, '/metrics agrees with /stats');
});
