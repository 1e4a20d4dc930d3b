// cache_cluster — the cache across several nodes sharing one Redis: cold
// misses of one key on several nodes coalesce into ONE database execution in
// the whole cluster (counted by PostgreSQL's pg_stat_statements), 404s are
// cached cluster-wide, and a read whose load overlaps a write never leaves the
// old value behind in any node or in Redis (the seed's in-flight race; nodes
// started with the test-only fault SB_FAULT_DB_DELAY_MS hold their loads open).
// Never: sleeps to create an overlap — it waits for the node's own counters —
// or shares a key prefix with another test (every cluster has its own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startCluster, statementCalls, createBook, api, register, stats, cachedValue, valueKey, waitFor,
} from './lib/harness.mjs';

const BOOK_QUERY = 'FROM books WHERE id = $1';
const SOURCES = ['miss', 'coalesced', 'hit'];

// Readers waiting on another node's load must be woken when the value is
// stored, not when their lease wait runs out: the wait is set far above the
// bound the test allows, so a reader that only wakes on the timeout fails it.
const LONG_LEASE_WAIT = { SB_CACHE_LEASE_WAIT_MS: '10000' };
const WOKEN_WITHIN_MS = 2000;

const get = (node, path) => api(node, 'GET', path);

/** Tracks a request's promise so a test can tell whether it is still in flight. */
function track(promise) {
  const t = { settled: false, promise };
  promise.then(() => (t.settled = true), () => (t.settled = true));
  return t;
}

async function sumStats(nodes, field) {
  const all = await Promise.all(nodes.map(stats));
  return all.reduce((sum, s) => sum + s.cache[field], 0);
}

function assertOneLoad(responses, before, label) {
  const failed = responses.filter((r) => r.status !== 200);
  assert.equal(failed.length, 0, `${label}: ${failed.length} of ${responses.length} answers not 200, e.g. ${failed[0]?.status} ${failed[0]?.text}`);
  assert.equal(new Set(responses.map((r) => r.text)).size, 1, `${label}: everyone got the same body`);
  const calls = statementCalls(BOOK_QUERY) - before;
  assert.equal(calls, 1, `${label}: PostgreSQL executed the book query once (it ran ${calls} times)`);
  const sources = responses.map((r) => r.cache);
  assert.ok(sources.every((s) => SOURCES.includes(s)), `${label}: X-Cache values ${sources.join()}`);
  assert.equal(sources.filter((s) => s === 'miss').length, 1, `${label}: exactly one miss in the cluster (${sources.join()})`);
}

test('a slow cold load on one node is joined by the other nodes: one database execution', async () => {
  // Every load is held open 800 ms, so the other nodes' requests certainly
  // arrive while it is in flight and find nothing in Redis yet.
  const nodes = await startCluster(3, { SB_FAULT_DB_DELAY_MS: '800', ...LONG_LEASE_WAIT }, { name: 'slowjoin' });
  const id = createBook('Slow join');
  const before = statementCalls(BOOK_QUERY);

  const t0 = Date.now();
  const first = track(get(nodes[0], `/api/books/${id}`));
  await waitFor(async () => (await stats(nodes[0])).cache.db_fetches === 1, {
    what: 'node 0 to start loading the book',
  });
  // The overlap this test is about: the load is in flight and Redis has no
  // value yet, so the other nodes cannot simply hit.
  assert.equal(first.settled, false, 'the first load is still in flight when the others ask');
  assert.equal(cachedValue(valueKey(nodes[0].prefix, 'book', id)), null, 'no value in Redis yet when the others ask');
  const others = nodes.flatMap((n) => Array.from({ length: 10 }, () => get(n, `/api/books/${id}`)));
  const responses = [await first.promise, ...(await Promise.all(others))];
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= 800, 'the fault injection held the load open (SB_FAULT_DB_DELAY_MS)');
  assert.ok(elapsed < 800 + WOKEN_WITHIN_MS, `waiters were woken by the fill, not the lease-wait timeout (${elapsed} ms)`);

  assertOneLoad(responses, before, 'slow join');
  assert.equal(responses[0].body.title, 'Slow join');
  assert.equal(await sumStats(nodes, 'db_fetches'), 1, 'db_fetches summed over the cluster');
  assert.equal(await sumStats(nodes, 'misses'), 1, 'misses summed over the cluster');
});

test('a stampede of cold misses on three nodes at once makes one database execution', async () => {
  const nodes = await startCluster(3, LONG_LEASE_WAIT, { name: 'stampede' });
  const id = createBook('Cluster stampede');
  const before = statementCalls(BOOK_QUERY);
  // Interleave the nodes so that every node's requests leave at the same time.
  const t0 = Date.now();
  const requests = [];
  const READS = 500; // the figure: 500 concurrent reads over 3 nodes
  const perNodeReads = nodes.map((_, i) => Math.floor(READS / nodes.length) + (i < READS % nodes.length ? 1 : 0));
  for (let i = 0; i < READS; i++) requests.push(get(nodes[i % nodes.length], `/api/books/${id}`));
  const responses = await Promise.all(requests);
  const elapsed = Date.now() - t0;

  assertOneLoad(responses, before, 'stampede');
  assert.ok(elapsed < WOKEN_WITHIN_MS, `waiters were woken by the fill, not the lease-wait timeout (${elapsed} ms)`);
  assert.equal(await sumStats(nodes, 'db_fetches'), 1, 'db_fetches summed over the cluster');
  const perNode = await Promise.all(nodes.map(stats));
  for (const [i, s] of perNode.entries()) {
    const answered = s.cache.hits + s.cache.misses + s.cache.coalesced;
    assert.equal(answered, perNodeReads[i], `node ${i} counted its ${perNodeReads[i]} reads as hit/miss/coalesced (${JSON.stringify(s.cache)})`);
  }
});

test('a 404 is cached for the whole cluster: one database execution for reads on two nodes', async () => {
  const nodes = await startCluster(2, {}, { name: 'neg' });
  const missing = 9000000000000000000n + BigInt(process.pid);
  const before = statementCalls(BOOK_QUERY);

  const first = await get(nodes[0], `/api/books/${missing}`);
  assert.equal(first.status, 404);
  assert.deepEqual(first.body, { error: { code: 'not_found', message: 'no such book' } });
  assert.equal(first.cache, 'miss');
  const again = await get(nodes[0], `/api/books/${missing}`);
  assert.equal(again.status, 404);
  assert.equal(again.cache, 'hit', 'the same node remembers the 404');
  const other = await get(nodes[1], `/api/books/${missing}`);
  assert.equal(other.status, 404);
  assert.equal(other.cache, 'hit', 'another node finds the 404 in Redis');
  assert.deepEqual(other.body, first.body);
  const calls = statementCalls(BOOK_QUERY) - before;
  assert.equal(calls, 1, `one database execution for the three reads (it ran ${calls} times)`);
});

// The seed's bug: node A loads book X (old row), B writes X and invalidates,
// then A's load finishes and stores the old row in its memory and Redis, where
// every node keeps serving it until the TTL. A's load is held open 1.5 s by
// the fault injection, and the write lands inside that window.
for (const round of [1, 2, 3]) {
  test(`a read overlapping a write never leaves the old value behind (round ${round} of 3)`, async () => {
    const [a, b, c] = await startCluster(3, {}, {
      name: `race${round}_`,
      nodeEnv: [{ SB_FAULT_DB_DELAY_MS: '1500' }, {}, {}],
    });
    const author = await register(b);
    const stamp = `${process.pid}.${round}.${Date.now()}`;
    const oldTitle = `Race old ${stamp}`;
    const newTitle = `Race new ${stamp}`;
    const created = await api(b, 'POST', '/api/books', {
      token: author.token,
      body: { title: oldTitle, description: 'race', published: true },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id;

    const key = valueKey(a.prefix, 'book', id);
    const fetchesBefore = (await stats(a)).cache.db_fetches;
    const t0 = Date.now();
    const read = track(get(a, `/api/books/${id}`));
    await waitFor(async () => (await stats(a)).cache.db_fetches === fetchesBefore + 1, {
      what: "node A's load of the book to start",
    });
    // Else no race is exercised: A's load must still be open, nothing stored.
    assert.equal(read.settled, false, "A's read is still in flight when the write is sent");
    assert.equal(cachedValue(key), null, 'A has not stored the book in Redis yet');
    const patched = await api(b, 'PATCH', `/api/books/${id}`, { token: author.token, body: { title: newTitle } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.title, newTitle);

    const overlapped = await read.promise;
    assert.ok(Date.now() - t0 >= 1500, "A's load was held open by SB_FAULT_DB_DELAY_MS");
    assert.equal(overlapped.status, 200, overlapped.text);
    assert.ok([oldTitle, newTitle].includes(overlapped.body.title), `A's overlapping read: ${overlapped.text}`);

    // Twice: a late store of the old value after the first round must not slip by.
    for (const pass of [1, 2]) {
      for (const [name, node] of [['A', a], ['B', b], ['C', c]]) {
        const res = await get(node, `/api/books/${id}`);
        assert.equal(res.status, 200, `${name} pass ${pass}: ${res.text}`);
        assert.equal(res.body.title, newTitle, `node ${name} (pass ${pass}) serves the new title, X-Cache ${res.cache}`);
      }
      const stored = cachedValue(key);
      if (stored !== null) {
        assert.ok(stored.body.includes(newTitle), `Redis ${key} holds the new title (pass ${pass}): ${stored.raw}`);
        assert.ok(!stored.body.includes(oldTitle), `Redis ${key} does not hold the old title (pass ${pass})`);
      }
    }
  });
}
