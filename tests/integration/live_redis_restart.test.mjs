// live_redis_restart — Redis goes away under live clients and comes back:
// the bridge reconnects and resubscribes, and every client gets what was
// published while it was away (from the channel's history) exactly once, in
// order, before what comes next. When Redis comes back empty (no
// persistence), offsets still only go forward and a resume from before the
// loss is told recovered:false. Each test runs its own private Redis.
// Never: waits for time; every wait is for a condition with a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from './lib/servers.mjs';
import { waitFor, api, redisAt, stats } from './lib/harness.mjs';
import {
  liveCluster, openWs, subscribe, nextFrame, pushOn, pushesOn, publish, published, uniqueId, sse, sseUntil,
  ssePushesOn, joined, isProbe, tcpProxy,
} from './lib/live.mjs';

/** Publishes through `node`, retrying while Redis is still coming back (503). */
async function publishWhenUp(node, channel, data) {
  return waitFor(
    async () => {
      const res = await publish(node, channel, 'comment.created', data);
      if (res.status === 202) return res.body.offset;
      assert.equal(res.status, 503, `publish while Redis returns: ${res.status} ${res.text}`);
      return false;
    },
    { ms: 15000, every: 50, what: `a publish to ${channel} to be accepted` },
  );
}

const seqs = (pushes) => pushes.filter((p) => !isProbe(p)).map((p) => p.data.seq);

test('Redis restarted mid-stream: a node that comes back late gets what was published meanwhile, once and in order', async (t) => {
  const redis = await startRedis({ persistent: true });
  // Node a reaches Redis through a proxy, so the test decides when it may
  // reconnect: only after node b has published while a was away.
  const path = await tcpProxy(redis);
  t.after(() => path.close());
  const [a, b] = await liveCluster(t, 2, { SB_REDIS_URL: redis.url }, {
    name: 'restart',
    nodeEnv: [{ SB_REDIS_URL: `redis://127.0.0.1:${path.port}` }],
  });
  const channel = `comments:chapter:${uniqueId()}`;
  const ws = await openWs(a);
  await subscribe(ws, channel);
  const stream = await sse(a, { channels: [channel] });
  await joined(b, [channel], (ch) => pushesOn(ws, ch).some(isProbe));
  await joined(b, [channel], stream);

  await published(b, channel, 'comment.created', { seq: 1 });
  await nextFrame(ws, (f) => pushOn(channel)(f) && f.data.seq === 1);

  path.refuse(true);
  await redis.stop();
  // While Redis is away, publishing says so rather than pretending.
  assert.equal((await publish(b, channel, 'comment.created', { seq: 'lost' })).status, 503);
  await redis.start();
  for (let seq = 2; seq <= 4; seq++) await publishWhenUp(b, channel, { seq });
  await waitFor(async () => (await api(a, 'GET', '/readyz')).status === 503, { what: 'node a to see Redis gone' });
  assert.deepEqual(seqs(pushesOn(ws, channel)), [1], 'nothing reached node a while it was cut off');

  path.refuse(false); // node a reconnects, resubscribes and reads the history
  await nextFrame(ws, (f) => pushOn(channel)(f) && f.data.seq === 4, 15000);
  await published(b, channel, 'comment.created', { seq: 5 });
  await nextFrame(ws, (f) => pushOn(channel)(f) && f.data.seq === 5);
  assert.deepEqual(seqs(pushesOn(ws, channel)), [1, 2, 3, 4, 5], 'WebSocket: every message once, in order');
  await sseUntil(stream, () => seqs(ssePushesOn(stream, channel)).includes(5), { what: 'seq 5 over SSE' });
  assert.deepEqual(seqs(ssePushesOn(stream, channel)), [1, 2, 3, 4, 5], 'SSE: every message once, in order');
  const offsets = pushesOn(ws, channel).map((p) => BigInt(p.offset));
  for (let i = 1; i < offsets.length; i++) assert.ok(offsets[i] > offsets[i - 1], `offsets increase: ${offsets}`);
  assert.equal(ws.closeInfo, null, 'the client never had to reconnect');
});

test('Redis back empty (no persistence): offsets go on increasing, and an old resume says recovered:false', async (t) => {
  const redis = await startRedis();
  const [a] = await liveCluster(t, 1, { SB_REDIS_URL: redis.url }, { name: 'emptied' });
  const channel = `comments:chapter:${uniqueId()}`;
  const ws = await openWs(a);
  await subscribe(ws, channel);
  const before = await published(a, channel, 'comment.created', { seq: 1 });
  await nextFrame(ws, (f) => pushOn(channel)(f) && f.offset === before);

  await redis.restart(); // comes back with nothing: history and counters are gone
  const after = await publishWhenUp(a, channel, { seq: 2 });
  assert.ok(BigInt(after) > BigInt(before), `the offset after the loss (${after}) is past the one before (${before})`);
  // The subscriber gets it, whether it was published before or after the
  // node resubscribed (then the channel reads it from the new history).
  await nextFrame(ws, (f) => pushOn(channel)(f) && f.data.seq === 2, 15000);
  assert.deepEqual(seqs(pushesOn(ws, channel)), [1, 2]);

  // A client resuming from before the loss cannot be given what was lost.
  const late = await openWs(a);
  const reply = await subscribe(late, channel, before);
  assert.equal(reply.recovered, false, JSON.stringify(reply));
});

test('Redis crashed and lost its last writes (the counter and the history went back together): what is published next still reaches everyone, and resumes from before the loss say recovered:false', async (t) => {
  const redis = await startRedis(); // comes back as of its last SAVE
  const [a, b] = await liveCluster(t, 2, { SB_REDIS_URL: redis.url }, { name: 'wentback' });
  const channel = `comments:chapter:${uniqueId()}`;
  const ws = await openWs(a);
  await subscribe(ws, channel);
  const stream = await sse(a, { channels: [channel] });
  await joined(b, [channel], (ch) => pushesOn(ws, ch).some(isProbe));
  await joined(b, [channel], stream);

  const offsets = [];
  for (let seq = 1; seq <= 5; seq++) offsets[seq] = await published(b, channel, 'comment.created', { seq });
  redisAt(redis.url, 'SAVE'); // what Redis will come back with: the channel after message 5
  for (let seq = 6; seq <= 8; seq++) offsets[seq] = await published(b, channel, 'comment.created', { seq });
  await nextFrame(ws, (f) => pushOn(channel)(f) && f.data.seq === 8);
  await sseUntil(stream, () => seqs(ssePushesOn(stream, channel)).includes(8), { what: 'seq 8 over SSE' });
  const afterSeven = stream.events.find((r) => r.json?.channel === channel && r.json?.data?.seq === 7).id;

  await redis.kill();
  await redis.start();
  assert.equal(redisAt(redis.url, 'GET', `${a.prefix}q:${channel}`), offsets[5], 'Redis went back to message 5');
  for (let seq = 9; seq <= 11; seq++) {
    offsets[seq] = await publishWhenUp(b, channel, { seq });
    assert.ok(BigInt(offsets[seq]) > BigInt(offsets[8]), `seq ${seq}'s offset ${offsets[seq]} is past seq 8's ${offsets[8]}`);
  }
  // Numbered past everything delivered, they are not taken for duplicates.
  await nextFrame(ws, (f) => pushOn(channel)(f) && f.data.seq === 11, 15000);
  const all = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  assert.deepEqual(seqs(pushesOn(ws, channel)), all, 'WebSocket: every message once, in order');
  await sseUntil(stream, () => seqs(ssePushesOn(stream, channel)).includes(11), { what: 'seq 11 over SSE' });
  assert.deepEqual(seqs(ssePushesOn(stream, channel)), all, 'SSE: every message once, in order');
  await waitFor(async () => (await stats(a)).pubsub.offsets_went_back >= 1, {
    what: "node a's pubsub.offsets_went_back to count the loss",
  });

  // A client that had seen up to 7 (or 5) missed what Redis lost, on either
  // node: node a saw the offsets go back and kept a mark in Redis.
  for (const [node, since] of [[a, offsets[7]], [b, offsets[7]], [b, offsets[5]]]) {
    const late = await openWs(node);
    const reply = await subscribe(late, channel, since);
    assert.equal(reply.recovered, false, `${node.name}, since ${since}: ${JSON.stringify(reply)}`);
    late.terminate();
  }
  // One that had seen everything up to 11 misses nothing.
  const current = await openWs(b);
  assert.equal((await subscribe(current, channel, offsets[10])).recovered, true);
  await nextFrame(current, (f) => pushOn(channel)(f) && f.data.seq === 11);
  // An SSE stream resumed from after seq 7 says so first.
  const resumed = await sse(b, { channels: [channel], lastEventId: afterSeven });
  await sseUntil(resumed, () => resumed.events.length > 0, { what: 'the first event of the resumed stream' });
  assert.equal(resumed.events[0].event, 'recovered', resumed.events[0].raw);
  assert.deepEqual(resumed.events[0].json, { channels: { [channel]: false } });
});
