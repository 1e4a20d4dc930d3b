// live_limits — what a node does with frames it will not take (text over
// SB_WS_MAX_FRAME_BYTES → close 4009, binary → close 1003) while it goes on
// serving everyone else, and broadcast to many subscribers of one channel.
// Never: waits for time; frames are sent uncompressed (no permessage-deflate),
// so their sizes on the wire are the sizes built here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { register } from './lib/harness.mjs';
import {
  liveCluster, openWs, nextFrame, request, subscribe, closed, pushOn, pushesOn, published, uniqueId,
} from './lib/live.mjs';

/** A publish frame of exactly `bytes` bytes (UTF-8) with id `id` to `channel`. */
function publishFrameOf(bytes, id, channel) {
  const base = JSON.stringify({ id, op: 'publish', channel, data: { pad: '' } });
  const room = bytes - Buffer.byteLength(base);
  assert.ok(room >= 0);
  const frame = JSON.stringify({ id, op: 'publish', channel, data: { pad: randomBytes(room).toString('base64').slice(0, room) } });
  assert.equal(Buffer.byteLength(frame), bytes);
  return frame;
}

/** A bystander subscribed to a channel of its own, for "the node keeps serving" checks. */
async function bystander(node) {
  const channel = `comments:chapter:${uniqueId()}`;
  const ws = await openWs(node);
  await subscribe(ws, channel);
  return { ws, channel };
}

/** The bystander still gets pushes, and a new connection is served. */
async function stillServing(node, { ws, channel }) {
  const offset = await published(node, channel, 'comment.created', { after: 'the refused frame' });
  assert.equal((await nextFrame(ws, pushOn(channel))).offset, offset, 'the bystander still gets pushes');
  const fresh = await openWs(node);
  assert.deepEqual(await request(fresh, { op: 'ping' }), { id: 1, ok: true }, 'a new connection is served');
}

test('a text frame over SB_WS_MAX_FRAME_BYTES closes the connection with 4009; the node keeps serving', async (t) => {
  const [node] = await liveCluster(t, 1, { SB_WS_MAX_FRAME_BYTES: '4096' }, { name: 'wsframe' });
  const other = await bystander(node);
  const me = await register(node);
  const channel = `collab:chapter:${uniqueId()}`;
  const ws = await openWs(node, { token: me.token });
  await subscribe(ws, channel);

  // Exactly at the limit is allowed.
  ws.send(publishFrameOf(4096, 1001, channel));
  const reply = await nextFrame(ws, (f) => f.id === 1001);
  assert.equal(reply.ok, true, `a frame of exactly 4096 bytes is taken: ${JSON.stringify(reply).slice(0, 300)}`);
  const push = await nextFrame(ws, pushOn(channel));
  assert.equal(push.offset, reply.offset);

  ws.send(publishFrameOf(4097, 1002, channel));
  const { code } = await closed(ws);
  assert.equal(code, 4009, 'one byte over the limit');
  assert.equal(ws.frames.filter((f) => f.id === 1002 && f.ok === true).length, 0, 'the big frame was not published');
  await stillServing(node, other);
});

test('a message over the limit in several fragments closes with 4009 too', async (t) => {
  const [node] = await liveCluster(t, 1, { SB_WS_MAX_FRAME_BYTES: '4096' }, { name: 'wsfragments' });
  const other = await bystander(node);
  const me = await register(node);
  const channel = `collab:chapter:${uniqueId()}`;
  const ws = await openWs(node, { token: me.token });
  const frame = publishFrameOf(6000, 7, channel);
  ws.send(frame.slice(0, 3000), { fin: false });
  ws.send(frame.slice(3000), { fin: true });
  assert.equal((await closed(ws)).code, 4009);
  await stillServing(node, other);
});

test('the default frame limit is 65536 bytes', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsframedefault' });
  const me = await register(node);
  const channel = `collab:chapter:${uniqueId()}`;
  const ws = await openWs(node, { token: me.token });
  ws.send(publishFrameOf(65536, 1, channel));
  const reply = await nextFrame(ws, (f) => f.id === 1);
  assert.equal(reply.ok, true, `65536 bytes are taken: ${JSON.stringify(reply).slice(0, 300)}`);
  ws.send(publishFrameOf(65537, 2, channel));
  assert.equal((await closed(ws)).code, 4009);
});

test('a binary frame closes the connection with 1003; the node keeps serving', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsbinary' });
  const other = await bystander(node);
  const ws = await openWs(node);
  await subscribe(ws, `books:${uniqueId()}`);
  ws.send(Buffer.from(JSON.stringify({ id: 9, op: 'ping' })), { binary: true });
  assert.equal((await closed(ws)).code, 1003);
  assert.equal(ws.frames.filter((f) => f.id === 9).length, 0, 'the binary frame was not taken as a request');
  await stillServing(node, other);
});

test('many subscribers of one channel on one node all get every message, in order', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsfanout' });
  const channel = `comments:chapter:${uniqueId()}`;
  const CONNECTIONS = 50;
  const MESSAGES = 20;
  const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () => openWs(node)));
  await Promise.all(sockets.map((ws) => subscribe(ws, channel)));

  const offsets = [];
  for (let seq = 1; seq <= MESSAGES; seq++) offsets.push(await published(node, channel, 'comment.created', { seq }));
  await Promise.all(
    sockets.map((ws) => nextFrame(ws, (f) => pushOn(channel)(f) && f.data?.seq === MESSAGES, 10000)),
  );
  sockets.forEach((ws, i) => {
    const got = pushesOn(ws, channel);
    assert.deepEqual(got.map((p) => p.data.seq), Array.from({ length: MESSAGES }, (_, k) => k + 1), `connection ${i}`);
    assert.deepEqual(got.map((p) => p.offset), offsets, `connection ${i}: the offsets`);
  });
});
