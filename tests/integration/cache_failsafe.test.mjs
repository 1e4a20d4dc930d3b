// cache_failsafe — cached reads while a dependency is down, on private
// servers this file starts and stops (lib/servers.mjs): with PostgreSQL down
// a cached value past its freshness is still served (stale, within the grace
// period) while uncached keys answer 503 and /readyz names postgres; with
// Redis down reads keep working from the node-local cache and PostgreSQL, cold
// misses still coalesce on the node, /readyz names redis; and the node
// recovers by itself when each dependency comes back on the same port.
// Never: stops the suite's Redis or PostgreSQL (only the private ones), or
// waits a fixed time for an outage or a recovery to be noticed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode, uniquePrefix, createBook, statementCalls, api, register, cachedValue, valueKey, redisAt, waitFor,
} from './lib/harness.mjs';
import { startPostgres, startRedis } from './lib/servers.mjs';

const BOOK_QUERY = 'FROM books WHERE id = $1';

const get = (node, path) => api(node, 'GET', path);

// Twice: with no stale-while-revalidate window the stale answer can only come
// from the fail-safe (grace) path; with the default window, from SWR whose
// background refresh fails.
for (const [label, staleEnv] of [
  ['no SWR window: the grace period answers', { SB_CACHE_STALE_S: '0' }],
  ['default SWR window', {}],
]) {
  test(`PostgreSQL down (${label}): stale values are served, uncached keys are 503, recovery is automatic`, async () => {
    const pg = await startPostgres();
    const prefix = uniquePrefix('pgdown');
    const node = await startNode({
      env: {
        SB_DATABASE_URL: pg.url,
        SB_REDIS_KEY_PREFIX: prefix,
        SB_CACHE_TTL_S: '1',
        SB_CACHE_GRACE_S: '300',
        ...staleEnv,
      },
    });
    const [cachedId, uncachedId] = pg.bookIds;
    const key = valueKey(prefix, 'book', cachedId);

    const first = await get(node, `/api/books/${cachedId}`);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.cache, 'miss');
    assert.equal(first.body.title, 'Outage book one');
    await waitFor(() => {
      const v = cachedValue(key);
      return v && Number.isFinite(v.freshUntil) && v.freshUntil < Date.now();
    }, { ms: 5000, what: `${key} to pass its fresh_until` });

    await pg.stop();

    const stale = await get(node, `/api/books/${cachedId}`);
    assert.equal(stale.status, 200, `a cached book is still served: ${stale.text}`);
    assert.equal(stale.cache, 'stale');
    assert.equal(stale.text, first.text, 'with the body cached before the outage');

    const uncached = await get(node, `/api/books/${uncachedId}`);
    assert.equal(uncached.status, 503, uncached.text);
    assert.equal(uncached.body?.error?.code, 'unavailable');
    assert.ok(uncached.headers.get('retry-after'), 'Retry-After is set');

    const ready = await get(node, '/readyz');
    assert.equal(ready.status, 503);
    assert.match(ready.body?.error?.message ?? '', /postgres/, ready.text);
    assert.notEqual(ready.body.postgres, 'ok');
    assert.equal(ready.body.redis, 'ok');

    // Still stale (not dropped) on a second read during the outage.
    const staleAgain = await get(node, `/api/books/${cachedId}`);
    assert.equal(staleAgain.status, 200);
    assert.equal(staleAgain.text, first.text);

    await pg.start();
    const back = await waitFor(async () => {
      const res = await get(node, `/api/books/${uncachedId}`);
      return res.status === 200 && res;
    }, { ms: 30000, what: 'the uncached book to load once PostgreSQL is back' });
    assert.equal(back.body.title, 'Outage book two');
    await waitFor(async () => (await get(node, '/readyz')).status === 200, {
      ms: 30000,
      what: '/readyz to answer 200 once PostgreSQL is back',
    });
  });
}

test('Redis down: reads keep working, cold misses still coalesce, and the node recovers', async () => {
  const r = await startRedis();
  const prefix = uniquePrefix('redisdown');
  const node = await startNode({ env: { SB_REDIS_URL: r.url, SB_REDIS_KEY_PREFIX: prefix } });
  const warmId = createBook('Redis outage warm');

  const miss = await get(node, `/api/books/${warmId}`);
  assert.equal(miss.cache, 'miss');
  const hit = await get(node, `/api/books/${warmId}`);
  assert.equal(hit.cache, 'hit');
  assert.equal(redisAt(r.url, 'EXISTS', valueKey(prefix, 'book', warmId)), '1', 'stored in the private Redis');

  await r.stop();

  const during = await get(node, `/api/books/${warmId}`);
  assert.equal(during.status, 200, during.text);
  assert.ok(['hit', 'miss'].includes(during.cache), `X-Cache ${during.cache}`);
  assert.equal(during.text, miss.text);

  const ready = await waitFor(async () => {
    const res = await get(node, '/readyz');
    return res.status === 503 && res;
  }, { what: '/readyz to notice Redis is down' });
  assert.match(ready.body?.error?.message ?? '', /redis/, ready.text);
  assert.equal(ready.body.postgres, 'ok');

  // 50 concurrent cold misses with no Redis to coordinate through: the node
  // itself still loads the key once.
  const coldId = createBook('Redis outage cold');
  const before = statementCalls(BOOK_QUERY);
  const responses = await Promise.all(Array.from({ length: 50 }, () => get(node, `/api/books/${coldId}`)));
  assert.ok(responses.every((res) => res.status === 200), responses.map((res) => res.status).join());
  assert.equal(new Set(responses.map((res) => res.text)).size, 1, 'everyone got the same body');
  assert.equal(responses[0].body.title, 'Redis outage cold');
  const calls = statementCalls(BOOK_QUERY) - before;
  assert.equal(calls, 1, `PostgreSQL executed the book query once (it ran ${calls} times)`);
  const sources = responses.map((res) => res.cache);
  assert.ok(sources.every((s) => ['miss', 'coalesced', 'hit'].includes(s)), sources.join());
  assert.equal(sources.filter((s) => s === 'miss').length, 1, `exactly one miss (${sources.join()})`);

  await r.restart();
  await waitFor(async () => (await get(node, '/readyz')).status === 200, {
    ms: 30000,
    what: '/readyz to answer 200 once Redis is back',
  });

  // Writes (sessions live in Redis) and reads work again, and values are
  // stored in Redis again.
  const author = await register(node);
  const created = await api(node, 'POST', '/api/books', {
    token: author.token,
    body: { title: 'After the outage', published: true },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.body.id;
  assert.equal((await get(node, `/api/books/${id}`)).body.title, 'After the outage');
  const patched = await api(node, 'PATCH', `/api/books/${id}`, { token: author.token, body: { title: 'Patched after' } });
  assert.equal(patched.status, 200, patched.text);
  const read = await get(node, `/api/books/${id}`);
  assert.equal(read.status, 200);
  assert.equal(read.body.title, 'Patched after');
  await waitFor(() => redisAt(r.url, 'EXISTS', valueKey(prefix, 'book', id)) === '1', {
    what: 'the book to be stored in the restarted Redis',
  });
});
