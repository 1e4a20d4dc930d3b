// operations — /healthz, /readyz, /stats (admin key, actor kinds), /metrics
// and a graceful stop on SIGTERM, against a real node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, ADMIN_KEY, OWN_CACHE_REDIS, REDIS_BRIDGES, uniquePrefix } from './lib/harness.mjs';

const KINDS = ['connection', 'user', 'channel', 'cache', 'cache_entry', 'redis_bridge', 'db_pool', 'db_worker', 'feed_keeper'];

test('/stats needs the admin key and shows live actors per kind', async () => {
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: uniquePrefix('stats'), SB_DB_POOL_SIZE: '3' } });
  assert.equal((await fetch(`${node.url}/stats`)).status, 401);
  assert.equal((await fetch(`${node.url}/stats`, { headers: { 'X-Admin-Key': 'wrong' } })).status, 401);
  await fetch(`${node.url}/api/books/1`);
  const res = await fetch(`${node.url}/stats`, { headers: { 'X-Admin-Key': ADMIN_KEY } });
  assert.equal(res.status, 200);
  const stats = await res.json();
  assert.match(stats.node_id, /^node-/);
  assert.equal(typeof stats.uptime_s, 'number');
  for (const kind of KINDS) {
    assert.ok(stats.actors[kind], `kind ${kind} listed`);
    for (const field of ['count', 'mailbox_max', 'processed'])
      assert.equal(typeof stats.actors[kind][field], 'number', `${kind}.${field}`);
  }
  assert.equal(stats.actors.db_worker.count, 3);
  assert.equal(stats.actors.db_pool.count, 1);
  // Two with a Redis of its own for the cache (scripts/test starts one).
  assert.equal(stats.actors.redis_bridge.count, REDIS_BRIDGES);
  assert.equal(stats.actors.cache.count, 1);
  assert.equal(stats.actors.feed_keeper.count, 1);
  assert.ok(stats.actors.connection.count >= 1, 'this request has a connection actor');
  assert.ok(stats.actors.cache_entry.processed >= 1, 'an entry served the book read');
  for (const field of ['hits', 'misses', 'stale', 'coalesced', 'db_fetches', 'evictions', 'entries'])
    assert.equal(typeof stats.cache[field], 'number', `cache.${field}`);
  assert.deepEqual(Object.keys(stats.pubsub).sort(), ['delivered', 'dropped', 'offsets_went_back', 'received']);
  assert.deepEqual(Object.keys(stats.feeds).sort(), ['repaired', 'suspect', 'unrepaired']);
  assert.deepEqual(Object.keys(stats.connections).filter((k) => k === 'ws' || k === 'sse').sort(), ['sse', 'ws']);
  assert.equal(stats.cluster.nodes[0].node_id, stats.node_id);
});

test('/healthz and /readyz answer 200 while both dependencies do', async () => {
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: uniquePrefix('ready') } });
  assert.equal((await fetch(`${node.url}/healthz`)).status, 200);
  const ready = await fetch(`${node.url}/readyz`);
  assert.equal(ready.status, 200);
  // With a Redis of its own for the cache (scripts/test starts one) it is named too.
  assert.deepEqual(await ready.json(), { redis: 'ok', ...(OWN_CACHE_REDIS ? { redis_cache: 'ok' } : {}), postgres: 'ok' });
});

test('/readyz is 503 naming the dependency that does not answer', async () => {
  // A Redis URL where nothing listens: the node still starts and serves.
  const node = await startNode({
    ready: false,
    env: { SB_REDIS_URL: 'redis://127.0.0.1:1', SB_REDIS_KEY_PREFIX: uniquePrefix('noredis') },
  });
  const res = await fetch(`${node.url}/readyz`);
  assert.equal(res.status, 503);
  assert.ok(res.headers.get('retry-after'));
  const body = await res.json();
  assert.equal(body.error.code, 'unavailable');
  assert.match(body.error.message, /^redis not answering/);
  assert.equal(body.postgres, 'ok');
  // Reads still work without Redis: the cache falls through to PostgreSQL.
  const book = await fetch(`${node.url}/api/books/1`);
  assert.equal(book.status, 200);
  assert.equal(book.headers.get('x-cache'), 'miss');
});

test('/metrics is Prometheus text with HELP and TYPE lines', async () => {
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: uniquePrefix('metrics') } });
  const res = await fetch(`${node.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /^# HELP switchboard_actors /m);
  assert.match(text, /^# TYPE switchboard_actors gauge$/m);
  assert.match(text, /^switchboard_actors\{kind="db_worker"\} \d+$/m);
  assert.match(text, /^switchboard_cache_db_fetches_total \d+$/m);
});

test('SIGTERM stops the node with exit code 0 within 10 s', async () => {
  const node = await startNode({ env: { SB_REDIS_KEY_PREFIX: uniquePrefix('stop') } });
  const t0 = Date.now();
  const { code, signal } = await node.stop();
  assert.equal(signal, null);
  assert.equal(code, 0);
  assert.ok(Date.now() - t0 < 10000);
});
