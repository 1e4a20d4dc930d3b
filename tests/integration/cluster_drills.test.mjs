// cluster_drills — failure drills on the local cluster of scripts/cluster
// (three nodes behind nginx with the deployment's balancer config), every
// client going through nginx as in production, on a private Redis (AOF) and
// PostgreSQL this file starts and takes down:
// - Redis restarted: the nodes reconnect and resubscribe; clients subscribed
//   before get everything published just before and after, once, in order,
//   without having to reconnect.
// - PostgreSQL stopped: cached reads keep answering 200 (hit/stale), writes
//   answer 503 with Retry-After, and writes work again (and are seen on every
//   node) once it is back.
// - A client that never reads is cut off by its node, while a reader on the
//   same node gets every message in order.
// - A node killed with SIGKILL (last: it stays dead): its clients reconnect
//   through nginx to the others and resume with `since` (recovered:true),
//   every client ends with every message once and in order, and a user who
//   was connected to the dead node drops out of /api/presence/online within
//   30 s; the cluster goes on serving without it, and stops cleanly
//   (exit 0, the survivors drained) when asked.
// One cluster for the file; each test has its own channels and users.
// Never: sleeps for time (every wait is for a condition with a deadline),
// kills anything but the processes it started (the script, and the node pid
// the script wrote for drills), or touches the suite's Redis/PostgreSQL.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { waitFor, api, register, stats } from './lib/harness.mjs';
import { startRedis, startPostgres } from './lib/servers.mjs';
import { openWs, subscribe, nextFrame, pushOn, pushesOn, publish, published, uniqueId, closed } from './lib/live.mjs';
import { startScriptCluster, follow } from './lib/cluster.mjs';

let redis;
let pg;
let cluster;
let balancer; // nginx, as openWs/api/publish take it: {url, port}

before(async () => {
  redis = await startRedis({ persistent: true });
  pg = await startPostgres();
  cluster = await startScriptCluster({ redisUrl: redis.url, databaseUrl: pg.url });
  balancer = { url: cluster.url, port: cluster.port };
});

function assertClusterUp() {
  assert.ok(cluster?.running, `scripts/cluster is not running\n${cluster?.tails() ?? ''}`);
}

/** connections.ws of every node, asked directly (in node order). */
const wsCounts = async () => Promise.all(cluster.nodes.map(async (n) => (await stats(n)).connections.ws));
const droppedCounts = async () => Promise.all(cluster.nodes.map(async (n) => (await stats(n)).pubsub.dropped));

/**
 * Publishes {seq, ...extra} through nginx until one attempt is accepted
 * (202). A 502/503/504, or a connection failure, is retried — and the seq
 * is remembered in `ambiguous`: that attempt may have been stored before the
 * answer was lost (a node killed mid-request), so the seq may legitimately
 * appear twice, at two offsets.
 */
async function publishRetrying(channel, seq, extra, ambiguous, { ms = 20000 } = {}) {
  const answers = [];
  const offset = await waitFor(
    async () => {
      let res;
      try {
        res = await publish(balancer, channel, 'comment.created', { seq, ...extra });
      } catch (e) {
        answers.push(e.message);
        ambiguous.add(seq);
        return false;
      }
      if (res.status === 202) return res.body.offset;
      answers.push(`${res.status} ${res.text.slice(0, 200)}`);
      assert.ok([502, 503, 504].includes(res.status), `publish of seq ${seq}: ${res.status} ${res.text}`);
      ambiguous.add(seq);
      return false;
    },
    { ms, every: 20, what: `a publish of seq ${seq} to be accepted` },
  ).catch((e) => {
    throw new Error(`${e.message}; last answers: ${answers.slice(-3).join(' | ')}\n${cluster.tails()}`);
  });
  return { seq, offset };
}

/**
 * Checks that `pushes` (one client's pushes on the channel, in arrival
 * order) are the channel's messages from before the first published one to
 * the last, each once and in order: offsets go up (they are not consecutive:
 * each is past Redis's clock, see src/live/publisher.cpp), every accepted
 * publish is there at its offset with its seq, and seqs run 1..N without
 * gaps; a seq may repeat only if one of its attempts was ambiguous.
 */
function assertEverythingOnce(pushes, accepted, ambiguous, who) {
  const show = () => `${who}: received offsets/seqs ${pushes.slice(0, 5).map((p) => `${p.offset}/${p.data?.seq}`)} … ${pushes.slice(-5).map((p) => `${p.offset}/${p.data?.seq}`)} (${pushes.length} pushes)`;
  assert.ok(pushes.length > 0, `${who}: nothing received`);
  const offsets = pushes.map((p) => BigInt(p.offset));
  for (let i = 1; i < offsets.length; i++)
    if (offsets[i] <= offsets[i - 1])
      assert.fail(`${who}: push ${i} has offset ${offsets[i]} after ${offsets[i - 1]} (a repeat or a reorder)\n${show()}`);
  const first = BigInt(accepted[0].offset);
  const last = BigInt(accepted.at(-1).offset);
  assert.ok(offsets[0] <= first, `${who}: starts at ${offsets[0]}, after the first accepted offset ${first}\n${show()}`);
  assert.equal(offsets.at(-1), last, `${who}: ends at ${offsets.at(-1)}, not at the last accepted offset ${last}\n${show()}`);
  const byOffset = new Map(pushes.map((p) => [p.offset, p]));
  for (const { seq, offset } of accepted)
    assert.equal(byOffset.get(offset)?.data?.seq, seq, `${who}: offset ${offset} should carry seq ${seq}\n${show()}`);
  const seqs = pushes.map((p) => p.data.seq);
  const n = accepted.at(-1).seq;
  const expected = [];
  for (let s = 1; s <= n; s++) expected.push(s);
  const deduped = seqs.filter((s, i) => i === 0 || s !== seqs[i - 1]);
  assert.deepEqual(deduped, expected, `${who}: seqs 1..${n} in order\n${show()}`);
  for (let i = 1; i < seqs.length; i++)
    if (seqs[i] === seqs[i - 1])
      assert.ok(ambiguous.has(seqs[i]), `${who}: seq ${seqs[i]} twice though every attempt of it had a clear answer\n${show()}`);
}

test('Redis restarted: every node resubscribes; clients get what was published just before and after, once, in order', async (t) => {
  assertClusterUp();
  const channel = `comments:chapter:${uniqueId()}`;
  // Six clients through least_conn: two on each node.
  const clients = [];
  for (let i = 0; i < 6; i++) {
    const ws = await openWs(balancer);
    await subscribe(ws, channel);
    clients.push(ws);
  }
  await waitFor(async () => (await wsCounts()).every((c) => c >= 1), {
    ms: 5000,
    what: 'every node to serve at least one of the clients (nginx least_conn)',
  });
  try {
    const accepted = [];
    const ambiguous = new Set();
    let seq = 0;
    for (; seq < 20; ) accepted.push({ seq: ++seq, offset: await published(balancer, channel, 'comment.created', { seq }) });
    for (const ws of clients) await nextFrame(ws, (f) => pushOn(channel)(f) && f.data.seq === 20, 10000);

    // Published just before the restart: not waited for.
    for (; seq < 30; ) accepted.push({ seq: ++seq, offset: await published(balancer, channel, 'comment.created', { seq }) });
    await redis.restart();
    const back = Date.now();
    let refusedWhileBack = 0;
    for (; seq < 60; ) {
      const next = ++seq;
      const before = ambiguous.size;
      accepted.push(await publishRetrying(channel, next, {}, ambiguous));
      refusedWhileBack += ambiguous.size - before;
    }
    const lastOffset = accepted.at(-1).offset;
    for (const [i, ws] of clients.entries())
      await nextFrame(ws, (f) => pushOn(channel)(f) && f.offset === lastOffset, 30000).catch((e) => {
        throw new Error(`client ${i}: ${e.message}\n${cluster.tails()}`);
      });
    for (const [i, ws] of clients.entries()) {
      assertEverythingOnce(pushesOn(ws, channel), accepted, ambiguous, `client ${i}`);
      assert.equal(ws.closeInfo, null, `client ${i} was disconnected (${JSON.stringify(ws.closeInfo)}): a Redis restart must not cut clients off`);
    }
    const ready = await Promise.all(cluster.nodes.map(async (n) => (await api(n, 'GET', '/readyz')).status));
    assert.deepEqual(ready, [200, 200, 200], 'every node ready again');
    t.diagnostic(`Redis restart: ${refusedWhileBack} publish attempt(s) refused while the nodes reconnected; all delivered ${Date.now() - back} ms after Redis was back`);
  } finally {
    for (const ws of clients) ws.terminate();
  }
});

test('PostgreSQL stopped: cached reads stay 200, writes are 503 with Retry-After, and everything recovers', async (t) => {
  assertClusterUp();
  const { token } = await register(balancer);
  const created = await api(balancer, 'POST', '/api/books', {
    token,
    body: { title: 'Drill book', description: 'before the outage', published: true },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.body.id;
  const path = `/api/books/${id}`;
  // Warm: once read, the value is in Redis for every node.
  const warm = await waitFor(
    async () => {
      const res = await api(balancer, 'GET', path);
      assert.equal(res.status, 200, res.text);
      return res.cache === 'hit' && res;
    },
    { ms: 5000, what: `${path} to be answered from the cache` },
  );
  assert.equal(warm.body.title, 'Drill book');
  const uncached = pg.bookIds[1]; // made by startPostgres, never read by anyone

  await pg.stop();
  try {
    // Reads of the cached book: through nginx (round the nodes) and from each node.
    for (const [where, target] of [
      ...[1, 2, 3, 4, 5, 6].map((i) => [`nginx #${i}`, balancer]),
      ...cluster.nodes.map((n) => [n.name, n]),
    ]) {
      const res = await api(target, 'GET', path);
      assert.equal(res.status, 200, `${where}: a cached book while PostgreSQL is down: ${res.status} ${res.text}`);
      assert.ok(['hit', 'stale'].includes(res.cache), `${where}: X-Cache ${res.cache}`);
      assert.equal(res.text, warm.text, `${where}: the cached body`);
    }
    // Proof that PostgreSQL really is away for the nodes: an uncached read fails.
    const cold = await api(balancer, 'GET', `/api/books/${uncached}`);
    assert.equal(cold.status, 503, `an uncached book while PostgreSQL is down: ${cold.status} ${cold.text}`);
    assert.ok(cold.headers.get('retry-after'), 'Retry-After on the uncached read');

    // Writes: 503 with Retry-After, on whichever node nginx picks.
    for (let i = 0; i < 3; i++) {
      const patch = await api(balancer, 'PATCH', path, { token, body: { title: 'During the outage' } });
      assert.equal(patch.status, 503, `PATCH while PostgreSQL is down: ${patch.status} ${patch.text}`);
      assert.equal(patch.body?.error?.code, 'unavailable', patch.text);
      assert.match(patch.headers.get('retry-after') ?? '', /^\d+$/, 'Retry-After on PATCH');
      const post = await api(balancer, 'POST', '/api/books', { token, body: { title: 'Outage book' } });
      assert.equal(post.status, 503, `POST while PostgreSQL is down: ${post.status} ${post.text}`);
      assert.match(post.headers.get('retry-after') ?? '', /^\d+$/, 'Retry-After on POST');
    }
    // A refused write changed nothing, and the book is still served from the cache.
    for (const [where, target] of [['nginx', balancer], ...cluster.nodes.map((n) => [n.name, n])]) {
      const res = await api(target, 'GET', path);
      assert.equal(
        res.status,
        200,
        `${where}: the cached book after writes were refused (503) while PostgreSQL is down: ` +
          `${res.status} X-Cache ${res.cache} ${res.text}`,
      );
      assert.equal(res.text, warm.text, `${where}: the body cached before the outage`);
    }
  } finally {
    await pg.start();
  }

  const patched = await waitFor(
    async () => {
      const res = await api(balancer, 'PATCH', path, { token, body: { title: 'After the outage' } });
      if (res.status === 200) return res;
      assert.equal(res.status, 503, `PATCH once PostgreSQL is back: ${res.status} ${res.text}`);
      return false;
    },
    { ms: 30000, every: 100, what: 'a PATCH to succeed once PostgreSQL is back' },
  );
  assert.equal(patched.body.title, 'After the outage');
  // The write is seen on every node (its invalidation reached them all).
  for (const n of cluster.nodes) {
    const res = await api(n, 'GET', path);
    assert.equal(res.status, 200, `${n.name}: ${res.text}`);
    assert.equal(res.body.title, 'After the outage', `${n.name} serves the new title`);
  }
  const post = await api(balancer, 'POST', '/api/books', { token, body: { title: 'After outage book', published: true } });
  assert.equal(post.status, 201, post.text);
  const cold = await api(balancer, 'GET', `/api/books/${uncached}`);
  assert.equal(cold.status, 200, cold.text);
});

test('a client that never reads is cut off by its node; readers on the same channel get everything, in order', async (t) => {
  assertClusterUp();
  const channel = `comments:chapter:${uniqueId()}`;
  const stalled = await openWs(balancer);
  await subscribe(stalled, channel);
  const readers = [];
  try {
    for (let i = 0; i < 5; i++) {
      const ws = await openWs(balancer);
      await subscribe(ws, channel);
      readers.push(ws);
    }
    // 6 sockets through least_conn: two per node, so the stalled one shares
    // its node with a reader (else "nobody else slowed" would prove nothing).
    const counts = await waitFor(async () => {
      const c = await wsCounts();
      return c.every((n) => n >= 2) && c;
    }, { ms: 5000, what: 'two WebSockets on every node (nginx least_conn)' });
    const droppedBefore = await droppedCounts();
    stalled._socket.pause(); // never reads again: nginx's buffers, then the node's queue fill up

    const pad = 'x'.repeat(2048);
    const accepted = [];
    const ambiguous = new Set();
    const started = Date.now();
    let cutOn = -1;
    // At least 3000; more while the node has not cut it off yet: how much the
    // kernels and nginx buffer before the node's queue (live_max_queue) fills
    // depends on the machine's TCP buffer settings.
    for (let seq = 1; seq <= 3000 || (cutOn < 0 && seq <= 10000); seq++) {
      accepted.push({ seq, offset: await published(balancer, channel, 'comment.created', { seq, pad }) });
      if (cutOn < 0 && seq % 100 === 0) {
        const dropped = await droppedCounts();
        cutOn = dropped.findIndex((d, i) => d > droppedBefore[i]);
      }
    }
    const publishMs = Date.now() - started;
    if (cutOn < 0)
      await waitFor(async () => {
        const dropped = await droppedCounts();
        cutOn = dropped.findIndex((d, i) => d > droppedBefore[i]);
        return cutOn >= 0;
      }, { ms: 10000, what: `a node to drop the stalled client's queue (pubsub.dropped) after ${accepted.length} messages` });

    const last = accepted.at(-1).offset;
    for (const [i, ws] of readers.entries())
      await nextFrame(ws, (f) => pushOn(channel)(f) && f.offset === last, 30000).catch((e) => {
        throw new Error(`reader ${i} did not get all ${accepted.length} messages: ${e.message.split('\n')[0]} (got ${pushesOn(ws, channel).length})`);
      });
    const caughtUpMs = Date.now() - started;
    for (const [i, ws] of readers.entries()) {
      assertEverythingOnce(pushesOn(ws, channel), accepted, ambiguous, `reader ${i}`);
      assert.equal(ws.closeInfo, null, `reader ${i} was disconnected: ${JSON.stringify(ws.closeInfo)}`);
    }
    // The node let go of the stalled socket (it drops it 2 s after the close
    // frame cannot be written): its connection count falls by one.
    const node = cluster.nodes[cutOn];
    await waitFor(async () => (await stats(node)).connections.ws === counts[cutOn] - 1, {
      ms: 15000,
      what: `${node.name}'s connections.ws to fall from ${counts[cutOn]} to ${counts[cutOn] - 1}`,
    });

    // Reading again, the stalled client gets what the buffers held, then the
    // end: the 4008 close frame if it got through, else the dropped socket.
    stalled._socket.resume();
    const { code } = await closed(stalled, 30000);
    assert.ok([4008, 1006].includes(code), `the stalled client was closed with ${code}`);
    const partial = pushesOn(stalled, channel);
    assert.ok(partial.length < accepted.length, `the stalled client got ${partial.length} of ${accepted.length}: it was not cut off`);
    const expectedPrefix = accepted.slice(0, partial.length).map((a) => a.offset);
    assert.deepEqual(partial.map((p) => p.offset), expectedPrefix, 'what the stalled client got is a gap-free prefix');
    if (partial.length) assert.equal(partial[0].offset, accepted[0].offset, 'from the first message');
    t.diagnostic(
      `stalled client: cut off by ${node.name} after ${accepted.length} messages published in ${publishMs} ms ` +
        `(readers caught up at ${caughtUpMs} ms); it had received ${partial.length} when closed with ${code}`,
    );
  } finally {
    stalled.terminate();
    for (const ws of readers) ws.terminate();
  }
});

test('a node killed with SIGKILL: its clients resume elsewhere through nginx, missing nothing; its users leave presence', async (t) => {
  assertClusterUp();
  const victim = 2; // node2
  const victimNode = cluster.nodes[victim - 1];
  const channel = `comments:chapter:${uniqueId()}`;
  const followers = [];
  let presenceWs;
  try {
    const N = 1500;
    const killAtSeq = 300;
    const awayFor = 50; // a follower cut off reconnects once this many more were published
    const accepted = [];
    const ambiguous = new Set();
    const reconnectWhen = () => accepted.length >= killAtSeq + awayFor;
    for (let i = 0; i < 6; i++) followers.push(await follow(balancer, channel, { reconnectWhen }));
    await waitFor(async () => (await wsCounts()).every((c) => c >= 2), {
      ms: 5000,
      what: 'two followers on every node (nginx least_conn)',
    });

    // A signed-in user connected straight to the node that will die.
    const { token, user } = await register(balancer);
    presenceWs = await openWs(victimNode, { token });
    const online = async () => {
      const res = await api(balancer, 'GET', '/api/presence/online');
      assert.equal(res.status, 200, res.text);
      return res.body.items.includes(user.id);
    };
    await waitFor(online, { ms: 10000, what: `user ${user.id} to be online` });

    const pid = cluster.pid(victim);
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    assert.ok(cmd.includes(process.env.SB_BINARY), `node${victim}.pid names a switchboard node: ${cmd}`);

    let killedAt = 0;
    for (let seq = 1; seq <= N; seq++) {
      accepted.push(await publishRetrying(channel, seq, {}, ambiguous));
      if (seq === killAtSeq) {
        process.kill(pid, 'SIGKILL');
        killedAt = Date.now();
      }
    }
    const publishedBy = Date.now() - killedAt;

    const last = accepted.at(-1).offset;
    await waitFor(
      () => {
        for (const f of followers) if (f.failure) throw f.failure;
        return followers.every((f) => f.pushes.at(-1)?.offset === last);
      },
      { ms: 30000, what: `every follower to receive the last offset ${last}` },
    ).catch((e) => {
      const where = followers.map((f, i) => `follower ${i}: ${f.pushes.length} pushes, last ${f.pushes.at(-1)?.offset}, ${f.sessions.length} connection(s)`);
      throw new Error(`${e.message}\n${where.join('\n')}\n${cluster.tails()}`);
    });
    for (const f of followers) await f.idle();

    const resumed = followers.filter((f) => f.sessions.length > 1);
    assert.ok(resumed.length >= 1, 'at least one follower was on the killed node and had to reconnect');
    // What was published while a follower was away (from the offset it
    // resumed from to the offset current when it resubscribed) came from history.
    const missed = resumed.flatMap((f) => f.sessions.slice(1).map((s) => BigInt(s.reply.offset) - BigInt(s.since)));
    assert.ok(missed.every((m) => m >= BigInt(awayFor)), `every resume had missed at least ${awayFor} messages (${missed})`);
    for (const [i, f] of followers.entries()) {
      assertEverythingOnce(f.pushes, accepted, ambiguous, `follower ${i}`);
      for (const s of f.sessions.slice(1)) {
        assert.equal(typeof s.since, 'string', `follower ${i} resumed from an offset`);
        assert.equal(s.reply.recovered, true, `follower ${i}: resume from ${s.since}: ${JSON.stringify(s.reply)}`);
      }
    }

    // The dead node's user: gone from the online list within 30 s of the kill.
    await closed(presenceWs, 5000);
    await waitFor(async () => !(await online()), { ms: 40000, every: 250, what: `user ${user.id} to drop out of /api/presence/online` });
    const goneAfter = Date.now() - killedAt;
    assert.ok(goneAfter <= 30000, `user ${user.id} left presence ${goneAfter} ms after the kill (more than 30 s)`);
    t.diagnostic(
      `node kill: ${resumed.length} follower(s) resumed (recovered:true, ${missed.join('/')} messages from history) ` +
        `after ${resumed.map((f) => f.attempts.length).join('/')} failed attempt(s); ` +
        `${ambiguous.size} publish attempt(s) retried; publishing ended ${publishedBy} ms after the kill; user offline ${goneAfter} ms after the kill`,
    );

    // The cluster notices, says so, and goes on serving through nginx.
    await waitFor(() => new RegExp(`node${victim} \\(pid ${pid}\\) exited`).test(cluster.logs), {
      what: 'scripts/cluster to report the dead node',
    });
    assert.equal((await api(balancer, 'GET', '/healthz')).status, 200, 'nginx still serves from the survivors');
    assert.ok(cluster.running, `scripts/cluster keeps running without node${victim}`);
    // A requested stop: everything it started goes, the survivors drain, exit 0.
    const otherPids = [1, 3].map((i) => cluster.pid(i));
    const nginxPid = Number(readFileSync(`${cluster.dir}/nginx.pid`, 'utf8').trim());
    const result = await cluster.stop();
    assert.equal(result.code, 0, `scripts/cluster exit status: ${JSON.stringify(result)}\n${cluster.tails()}`);
    for (const p of [...otherPids, nginxPid]) assert.ok(!alive(p), `pid ${p} (a node or nginx) was stopped by the script`);
    for (const i of [1, 3]) assert.match(cluster.nodeLog(i), new RegExp(`node node${i} stopped`), `node${i} stopped cleanly\n${cluster.tails()}`);
  } finally {
    presenceWs?.terminate();
    await Promise.all(followers.map((f) => f.stop()));
  }
});

function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

