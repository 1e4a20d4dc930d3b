// live_resume — channel history and resuming: the subscribe reply's offset
// is the channel's current one; subscribing with `since` delivers exactly the
// messages after it (in order, once, before any live one) with
// "recovered":true, also on another node and while messages keep coming; a
// `since` older than the history window (SB_CHANNEL_HISTORY_SIZE, default
// 1000) gets "recovered":false and the subscription still goes on live.
// Never: waits for time; "nothing more arrived" is shown by a later message
// arriving, which must come after anything older on the same channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  liveCluster, openWs, nextFrame, request, subscribe, pushOn, pushesOn, published, uniqueId,
} from './lib/live.mjs';

const seqs = (ws, channel) => pushesOn(ws, channel).map((p) => p.data.seq);

/** Publishes {seq} for each seq in `from..to` through `node`, one after another; returns the offsets by seq. */
async function publishRange(node, channel, from, to, offsets = {}) {
  for (let seq = from; seq <= to; seq++) offsets[seq] = await published(node, channel, 'comment.created', { seq });
  return offsets;
}

/** Waits until `ws` has the push with data.seq === seq on `channel`. */
const seqArrives = (ws, channel, seq, ms) => nextFrame(ws, (f) => pushOn(channel)(f) && f.data?.seq === seq, ms);

/** Asserts the socket's pushes on `channel` are exactly `expected` seqs, each with its publish's offset. */
function assertExactly(ws, channel, expected, offsets, what) {
  assert.deepEqual(seqs(ws, channel), expected, `${what}: exactly these messages, in order, once`);
  for (const p of pushesOn(ws, channel)) assert.equal(p.offset, offsets[p.data.seq], `${what}: seq ${p.data.seq} has its offset`);
}

test('subscribe with since delivers exactly the messages after it, in order and once, then live ones', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'resume' });
  const channel = `comments:chapter:${uniqueId()}`;
  const first = await openWs(node);
  await subscribe(first, channel);
  const offsets = await publishRange(node, channel, 1, 3);
  await seqArrives(first, channel, 3);
  const seen = pushesOn(first, channel);
  assert.deepEqual(seen.map((p) => p.offset), [offsets[1], offsets[2], offsets[3]]);
  first.terminate(); // the client drops after having seen seq 2 and 3; it resumes from seq 2

  await publishRange(node, channel, 4, 5, offsets);
  const again = await openWs(node);
  const reply = await request(again, { op: 'subscribe', channel, since: offsets[2] });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  assert.equal(reply.channel, channel);
  assert.equal(reply.recovered, true, JSON.stringify(reply));
  assert.equal(reply.offset, offsets[5], 'the reply carries the channel\'s current offset');
  await seqArrives(again, channel, 5);

  await publishRange(node, channel, 6, 6, offsets);
  await seqArrives(again, channel, 6);
  assertExactly(again, channel, [3, 4, 5, 6], offsets, 'resumed after seq 2');
  const replayed = pushesOn(again, channel)[0];
  assert.deepEqual(replayed, { channel, offset: offsets[3], event: 'comment.created', data: { seq: 3 } }, 'a replayed push looks like a live one');
});

test('the subscribe reply\'s offset is the channel\'s current one, and resuming from it misses nothing', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'resumecur' });
  const channel = `books:${uniqueId()}`;

  // A channel nobody has published to yet: its offset, too, is a resume point.
  const early = await openWs(node);
  const empty = await subscribe(early, channel);
  assert.equal(typeof empty.offset, 'string', JSON.stringify(empty));
  early.terminate();
  const offsets = await publishRange(node, channel, 1, 3);
  const fromEmpty = await openWs(node);
  const r1 = await subscribe(fromEmpty, channel, empty.offset);
  assert.equal(r1.recovered, true, JSON.stringify(r1));
  assert.equal(r1.offset, offsets[3]);
  await seqArrives(fromEmpty, channel, 3);

  // Subscribing now says seq 3's offset; resuming from it replays nothing.
  const now = await openWs(node);
  const current = await subscribe(now, channel);
  assert.equal(current.offset, offsets[3], 'the current offset is the newest message\'s');
  const fromCurrent = await openWs(node);
  const r2 = await subscribe(fromCurrent, channel, current.offset);
  assert.equal(r2.recovered, true, JSON.stringify(r2));
  assert.equal(r2.offset, offsets[3]);

  await publishRange(node, channel, 4, 4, offsets);
  for (const ws of [now, fromCurrent, fromEmpty]) await seqArrives(ws, channel, 4);
  assertExactly(fromEmpty, channel, [1, 2, 3, 4], offsets, 'resumed from the empty channel\'s offset');
  assertExactly(fromCurrent, channel, [4], offsets, 'resumed from the current offset');
  assertExactly(now, channel, [4], offsets, 'subscribed without since');
});

test('resuming works on another node than the one the offset was seen on', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'resumecluster' });
  const channel = `comments:chapter:${uniqueId()}`;
  const onA = await openWs(a);
  await subscribe(onA, channel);
  const offsets = await publishRange(a, channel, 1, 2);
  await seqArrives(onA, channel, 2);
  onA.terminate();

  await publishRange(b, channel, 3, 4, offsets);
  await publishRange(a, channel, 5, 5, offsets);
  const onB = await openWs(b);
  const reply = await subscribe(onB, channel, pushesOn(onA, channel)[1].offset);
  assert.equal(reply.recovered, true, JSON.stringify(reply));
  assert.equal(reply.offset, offsets[5]);
  await seqArrives(onB, channel, 5);
  await publishRange(a, channel, 6, 6, offsets);
  await seqArrives(onB, channel, 6);
  assertExactly(onB, channel, [3, 4, 5, 6], offsets, 'resumed on node b after seq 2 seen on node a');
});

test('resuming while messages keep coming: nothing lost or doubled at the seam between history and live', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'resumeseam' });
  const channel = `comments:chapter:${uniqueId()}`;
  const N = 80;
  const offsets = {};
  const resumers = [];
  // Subscribe (on either node) from 5 messages back while the publisher goes on, without waiting for it.
  const resume = async (node, since) => {
    const ws = await openWs(node);
    const reply = await subscribe(ws, channel, offsets[since]);
    return { ws, since, reply };
  };
  for (let seq = 1; seq <= N; seq++) {
    offsets[seq] = await published(seq % 3 === 0 ? b : a, channel, 'comment.created', { seq });
    if (seq >= 10 && seq % 7 === 3) resumers.push(resume(seq % 2 ? b : a, seq - 5));
  }
  const all = await Promise.all(resumers);
  assert.ok(all.length >= 8);
  offsets[N + 1] = await published(a, channel, 'comment.created', { seq: N + 1 });
  for (const { ws, since, reply } of all) {
    assert.equal(reply.recovered, true, `since seq ${since}: ${JSON.stringify(reply)}`);
    await seqArrives(ws, channel, N + 1);
    const expected = Array.from({ length: N + 1 - since }, (_, i) => since + 1 + i);
    assertExactly(ws, channel, expected, offsets, `${ws.node.name}, resumed after seq ${since}`);
  }
});

test('a since older than the history window gets recovered:false; the subscription still goes on live', async (t) => {
  const [node] = await liveCluster(t, 1, { SB_CHANNEL_HISTORY_SIZE: '5' }, { name: 'resumetrim' });
  const channel = `comments:chapter:${uniqueId()}`;
  const offsets = await publishRange(node, channel, 1, 11); // history keeps seq 7..11

  const tooOld = await openWs(node);
  const lost = await subscribe(tooOld, channel, offsets[1]);
  assert.equal(lost.ok, true, JSON.stringify(lost));
  assert.equal(lost.channel, channel);
  assert.equal(lost.recovered, false, `seq 2..6 are gone: ${JSON.stringify(lost)}`);
  assert.equal(lost.offset, offsets[11], 'the current offset, to refetch from');

  const inWindow = await openWs(node);
  const kept = await subscribe(inWindow, channel, offsets[7]);
  assert.equal(kept.recovered, true, `seq 8..11 are all in the history: ${JSON.stringify(kept)}`);
  const newest = await openWs(node);
  const kept2 = await subscribe(newest, channel, offsets[10]);
  assert.equal(kept2.recovered, true, JSON.stringify(kept2));

  await publishRange(node, channel, 12, 12, offsets);
  for (const ws of [tooOld, inWindow, newest]) await seqArrives(ws, channel, 12);
  assertExactly(inWindow, channel, [8, 9, 10, 11, 12], offsets, 'resumed after seq 7');
  assertExactly(newest, channel, [11, 12], offsets, 'resumed after seq 10');
  const afterLoss = seqs(tooOld, channel);
  assert.equal(afterLoss.at(-1), 12, 'live messages follow');
  assert.ok(!afterLoss.some((s) => s <= 6), `nothing the history had lost is pushed: ${afterLoss}`);
  assert.equal(new Set(afterLoss).size, afterLoss.length, `no message twice: ${afterLoss}`);
});

test('the default history keeps the newest 1000 messages of a channel', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'resume1000' });
  const channel = `books:${uniqueId()}`;
  const offsets = await publishRange(node, channel, 1, 3);
  // 999 more, 20 at a time (their order among themselves is whatever the node made of it).
  for (let from = 4; from <= 1002; from += 20) {
    const batch = [];
    for (let seq = from; seq < Math.min(from + 20, 1003); seq++)
      batch.push(published(node, channel, 'book.updated', { seq }).then((o) => (offsets[seq] = o)));
    await Promise.all(batch);
  }
  // The newest 1000 are seq 3..1002: seq 2 is gone.
  const lost = await openWs(node);
  const r1 = await subscribe(lost, channel, offsets[1]);
  assert.equal(r1.recovered, false, `seq 2 is out of the window: ${JSON.stringify(r1)}`);

  const kept = await openWs(node);
  const r2 = await subscribe(kept, channel, offsets[3]);
  assert.equal(r2.recovered, true, `everything after seq 3 is in the window: ${JSON.stringify(r2)}`);
  offsets[1003] = await published(node, channel, 'book.updated', { seq: 1003 });
  await seqArrives(kept, channel, 1003, 15000);
  const got = seqs(kept, channel);
  assert.equal(got.length, 1000, 'seq 4..1002 replayed, then 1003');
  assert.equal(got.at(-1), 1003, 'the live message comes last');
  assert.deepEqual([...got].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i + 4), 'each once');
  for (const p of pushesOn(kept, channel)) assert.equal(p.offset, offsets[p.data.seq]);
});
