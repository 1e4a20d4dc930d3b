// books_cache — GET /api/books/:id through every layer against the real
// Redis and PostgreSQL: miss then hit, coalescing of concurrent cold misses
// into one database execution (counted by PostgreSQL's pg_stat_statements),
// 404 and its negative caching, ETag revalidation, and 400s for bad ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, statementCalls, createBook, uniquePrefix, redisCache, valueKey } from './lib/harness.mjs';

const BOOK_QUERY = 'FROM books WHERE id = $1';

test('first read is a miss that reaches the database, the second a hit that does not', async () => {
  const prefix = uniquePrefix('hit');
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: prefix } });
  const id = createBook('Miss then hit');
  const before = statementCalls(BOOK_QUERY);

  const first = await fetch(`${node.url}/api/books/${id}`);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('x-cache'), 'miss');
  const book = await first.json();
  assert.equal(book.id, id);
  assert.equal(book.title, 'Miss then hit');
  assert.equal(book.published, true);
  assert.match(book.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(Object.keys(book).sort(),
    ['author_id', 'chapter_count', 'description', 'id', 'published', 'title', 'updated_at']);
  assert.equal(statementCalls(BOOK_QUERY) - before, 1, 'the miss ran the query once');
  assert.ok(redisCache('EXISTS', valueKey(prefix, 'book', id)) === '1', 'the value was stored in Redis');
  assert.ok(Number(redisCache('PTTL', valueKey(prefix, 'book', id))) > 0, 'with a TTL');

  const second = await fetch(`${node.url}/api/books/${id}`);
  assert.equal(second.status, 200);
  assert.equal(second.headers.get('x-cache'), 'hit');
  assert.deepEqual(await second.json(), book);
  assert.equal(statementCalls(BOOK_QUERY) - before, 1, 'the hit did not touch the database');
});

test('200 concurrent reads of one cold key make exactly one database fetch', async () => {
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: uniquePrefix('stampede') } });
  const id = createBook('Stampede');
  const before = statementCalls(BOOK_QUERY);
  const responses = await Promise.all(
    Array.from({ length: 200 }, () => fetch(`${node.url}/api/books/${id}`)),
  );
  const sources = responses.map((r) => r.headers.get('x-cache'));
  assert.ok(responses.every((r) => r.status === 200), 'all 200');
  const bodies = await Promise.all(responses.map((r) => r.text()));
  assert.equal(new Set(bodies).size, 1, 'everyone got the same body');
  assert.equal(statementCalls(BOOK_QUERY) - before, 1, 'PostgreSQL executed the query once');
  assert.equal(sources.filter((s) => s === 'miss').length, 1, 'exactly one miss');
  assert.ok(sources.every((s) => ['miss', 'coalesced', 'hit'].includes(s)), sources.join());
  const stats = await (await fetch(`${node.url}/stats`, { headers: { 'X-Admin-Key': 'test-admin-key' } })).json();
  assert.equal(stats.cache.db_fetches, 1);
  assert.equal(stats.cache.misses, 1);
  assert.equal(stats.cache.coalesced + stats.cache.hits, 199);
});

test('a missing book is 404, and the 404 is cached briefly', async () => {
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: uniquePrefix('404') } });
  const missing = 9000000000000000000n;
  const before = statementCalls(BOOK_QUERY);
  const first = await fetch(`${node.url}/api/books/${missing}`);
  assert.equal(first.status, 404);
  assert.deepEqual(await first.json(), { error: { code: 'not_found', message: 'no such book' } });
  const second = await fetch(`${node.url}/api/books/${missing}`);
  assert.equal(second.status, 404);
  assert.equal(second.headers.get('x-cache'), 'hit');
  assert.equal(statementCalls(BOOK_QUERY) - before, 1);
});

test('ids that are not positive 64-bit integers are 400 and reach nothing', async () => {
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: uniquePrefix('400') } });
  const before = statementCalls(BOOK_QUERY);
  for (const bad of ['abc', '0', '-1', '1.5', '01', '9223372036854775808', '99999999999999999999', '1e3', '%20']) {
    const res = await fetch(`${node.url}/api/books/${bad}`);
    assert.equal(res.status, 400, `id ${bad}`);
    const body = await res.json();
    assert.equal(body.error.code, 'bad_request');
    assert.match(body.error.message, /id/);
  }
  assert.equal(statementCalls(BOOK_QUERY) - before, 0);
});

test('ETag and If-None-Match give 304', async () => {
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: uniquePrefix('etag') } });
  const id = createBook('Etag');
  const first = await fetch(`${node.url}/api/books/${id}`);
  const etag = first.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  assert.equal(first.headers.get('cache-control'), 'no-cache');
  const again = await fetch(`${node.url}/api/books/${id}`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get('etag'), etag);
  assert.equal(await again.text(), '');
  const other = await fetch(`${node.url}/api/books/${id}`, { headers: { 'If-None-Match': '"other"' } });
  assert.equal(other.status, 200);
});
