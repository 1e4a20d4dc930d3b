// badinput_ws — the bad-input suite, live side: WebSocket frames that break
// RFC 6455 (unmasked, reserved bits, reserved opcodes, fragmented or
// oversized control frames, continuations out of place, invalid UTF-8, bad
// close frames — written byte by byte on a raw socket, since the `ws`
// package never sends them), wrongly masked frames, frames sent after a
// close, oversized messages (whole, in fragments, or only declared), binary
// where text is expected; client frames that are not what the protocol
// says (not JSON, wrong types, bad ids, deep nesting, huge numbers, since
// values that are no offsets); channels that do not exist, another user's
// channel, collab channels without sign-in, publishing to read-only
// channels, more than live_max_subscriptions; and SSE requests for hundreds
// of channels, unknown or forbidden ones, and malformed Last-Event-IDs.
// Each gets the protocol's close code or error reply (docs/protocol.md),
// changes nothing stored in Redis (keys under the cluster's prefix compared
// before and after), reaches no subscriber, and leaves the node serving
// everyone else; every node must exit 0 afterwards (liveCluster checks).
// Never: sleeps for time — "nothing arrived" is shown by a later frame that
// must come after it; every other wait is for a frame or a close, with a
// deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register } from './lib/harness.mjs';
import {
  liveCluster, openWs, nextFrame, request, subscribe, closed, pushOn, pushesOn, published, assertRefused,
  uniqueId, openSse, sse, nextEvent,
} from './lib/live.mjs';
import { rawWs, wsFrame, closePayload, assertServing, redisState, assertUnchanged } from './lib/badinput.mjs';

const PING = JSON.stringify({ id: 1, op: 'ping' });

/** Opens an anonymous bystander subscribed to a channel of its own. */
async function bystander(node) {
  const channel = `comments:chapter:${uniqueId()}`;
  const ws = await openWs(node);
  await subscribe(ws, channel);
  return { ws, channel };
}

/** The bystander still gets a push published now. */
async function bystanderServed(node, { ws, channel }, what) {
  const offset = await published(node, channel, 'comment.created', { after: what });
  assert.equal((await nextFrame(ws, pushOn(channel))).offset, offset, `${what}: the bystander still gets pushes`);
}

/**
 * Sends each case's frames on its own raw connection (all at once) and
 * asserts the server closed it with one of the expected codes and answered
 * none of the requests inside.
 */
async function assertClosedWith(node, cases) {
  const results = await Promise.all(
    Object.entries(cases).map(async ([what, { frames, codes }]) => {
      const ws = await rawWs(node);
      assert.ok(ws.accepted, `${what}: the upgrade is accepted: ${ws.head}`);
      for (const f of frames) await ws.send(f);
      const close = await ws.closed(5000).catch((e) => ({ error: e.message }));
      return [what, codes, close, ws.json()];
    }),
  );
  for (const [what, codes, close, replies] of results) {
    assert.ok(close && codes.includes(close.code), `${what}: closed with ${codes.join(' or ')}, got ${JSON.stringify(close)}`);
    assert.deepEqual(replies, [], `${what}: no request after the violation is answered`);
  }
}

test('frames that break RFC 6455 close the connection with 1002 (1007 for invalid UTF-8); nothing is stored, the node serves on', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsrfc' });
  const other = await bystander(node);
  const before = redisState(node.prefix);
  const ping = wsFrame({ payload: PING });
  const P = [1002];
  await assertClosedWith(node, {
    'an unmasked client frame': { frames: [wsFrame({ payload: PING, mask: false })], codes: P },
    'RSV1 set (no extension agreed)': { frames: [wsFrame({ payload: PING, rsv: 4 }), ping], codes: P },
    'RSV2 set': { frames: [wsFrame({ payload: PING, rsv: 2 }), ping], codes: P },
    'RSV3 set': { frames: [wsFrame({ payload: PING, rsv: 1 }), ping], codes: P },
    'reserved data opcode 3': { frames: [wsFrame({ opcode: 3, payload: PING }), ping], codes: P },
    'reserved data opcode 7': { frames: [wsFrame({ opcode: 7, payload: PING }), ping], codes: P },
    'reserved control opcode 11': { frames: [wsFrame({ opcode: 11, payload: 'x' }), ping], codes: P },
    'reserved control opcode 15': { frames: [wsFrame({ opcode: 15, payload: 'x' }), ping], codes: P },
    'a fragmented ping': { frames: [wsFrame({ opcode: 9, payload: 'x', fin: false }), ping], codes: P },
    'a fragmented close': { frames: [wsFrame({ opcode: 8, payload: closePayload(1000), fin: false }), ping], codes: P },
    'a ping over 125 bytes': { frames: [wsFrame({ opcode: 9, payload: Buffer.alloc(126) }), ping], codes: P },
    'a continuation without a start': { frames: [wsFrame({ opcode: 0, payload: PING }), ping], codes: P },
    'a new text frame inside a fragmented message': { frames: [wsFrame({ payload: PING.slice(0, 5), fin: false }), wsFrame({ payload: PING })], codes: P },
    'a binary frame inside a fragmented text message': { frames: [wsFrame({ payload: PING.slice(0, 5), fin: false }), wsFrame({ opcode: 2, payload: PING.slice(5) })], codes: P },
    'a 64-bit length that would fit in 16 bits': {
      frames: [Buffer.concat([Buffer.from([0x81, 0xff]), Buffer.alloc(7), Buffer.from([5]), Buffer.alloc(4), Buffer.from('hello')]), ping],
      codes: P,
    },
    'a close with code 999': { frames: [wsFrame({ opcode: 8, payload: closePayload(999) })], codes: P },
    'a close with code 1005 (never sent on the wire)': { frames: [wsFrame({ opcode: 8, payload: closePayload(1005) })], codes: P },
    'a close with code 1006 (never sent on the wire)': { frames: [wsFrame({ opcode: 8, payload: closePayload(1006) })], codes: P },
    'a close with a one-byte payload': { frames: [wsFrame({ opcode: 8, payload: Buffer.from([3]) })], codes: P },
    'a close whose reason is not UTF-8': { frames: [wsFrame({ opcode: 8, payload: Buffer.concat([closePayload(1000), Buffer.from([0xff])]) })], codes: P },
    'invalid UTF-8 in a text frame': { frames: [wsFrame({ payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }), ping], codes: [1007] },
    'an overlong encoding in a text frame': { frames: [wsFrame({ payload: Buffer.from([0x22, 0xc0, 0xaf, 0x22]) }), ping], codes: [1007] },
    'a UTF-8 surrogate in a text frame': { frames: [wsFrame({ payload: Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]) }), ping], codes: [1007] },
    'a code point cut between two fragments, never completed': {
      frames: [wsFrame({ payload: Buffer.from([0x22, 0xe2, 0x82]), fin: false }), wsFrame({ opcode: 0, payload: Buffer.from([0x22]) }), ping],
      codes: [1007],
    },
  });
  assertUnchanged({ db: {}, redis: before }, node.prefix, [], 'protocol violations');
  await bystanderServed(node, other, 'after the protocol violations');
  await assertServing(node);
});

test('a wrongly masked frame is read as the bytes it unmasks to: a bad_request reply or 1007, never a crash', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsmask' });
  const before = redisState(node.prefix);
  // XORed with 0x01 while the header says 0x00: every byte is off by one, still ASCII.
  const shifted = await rawWs(node);
  await shifted.send(wsFrame({ payload: PING, maskKey: Buffer.alloc(4), maskWith: Buffer.from([1, 1, 1, 1]) }));
  const reply = await shifted.frame((f) => f.opcode === 1);
  assertRefused(JSON.parse(reply.text), 'bad_request', 'a frame unmasking to garbage');
  await shifted.text({ id: 2, op: 'ping' });
  await shifted.frame((f) => f.opcode === 1 && JSON.parse(f.text).id === 2);
  // XORed with 0x80: the unmasked bytes are not UTF-8.
  const high = await rawWs(node);
  await high.send(wsFrame({ payload: PING, maskKey: Buffer.from([1, 2, 3, 4]), maskWith: Buffer.from([0x80, 0x80, 0x80, 0x80]) }));
  assert.equal((await high.closed())?.code, 1007);
  assert.deepEqual(redisState(node.prefix), before, 'nothing stored');
  await assertServing(node);
});

test('frames sent after a close are never read', async (t) => {
  const [node] = await liveCluster(t, 1, { SB_WS_MAX_FRAME_BYTES: '4096' }, { name: 'wsafter' });
  const channel = `books:${uniqueId()}`;
  // the client closes, then goes on sending
  const a = await rawWs(node);
  await a.send(Buffer.concat([wsFrame({ opcode: 8, payload: closePayload(1000, 'bye') }), wsFrame({ payload: PING }), wsFrame({ payload: JSON.stringify({ id: 2, op: 'subscribe', channel }) })]));
  assert.equal((await a.closed())?.code, 1000, 'the close is echoed');
  assert.deepEqual(a.json(), [], 'no request after the close is answered');
  // the server closes (4009), then the client goes on sending
  const b = await rawWs(node);
  await b.send(wsFrame({ payload: 'x'.repeat(5000) }));
  await b.frame((f) => f.opcode === 8);
  await b.send(Buffer.concat([wsFrame({ payload: PING }), wsFrame({ opcode: 9, payload: 'still there?' })]));
  assert.equal((await b.closed())?.code, 4009);
  assert.deepEqual(b.frames().filter((f) => f.opcode !== 8).map((f) => f.opcode), [], 'no reply, no pong after the server\'s close');
  // the server closes (1003), then the client goes on sending
  const c = await rawWs(node);
  await c.send(wsFrame({ opcode: 2, payload: PING }));
  await c.frame((f) => f.opcode === 8);
  await c.send(wsFrame({ payload: PING }));
  assert.equal((await c.closed())?.code, 1003);
  assert.deepEqual(c.json(), []);
  // nobody subscribed to `channel` by the frame after the close
  const watcher = await openWs(node);
  await subscribe(watcher, channel);
  await assertServing(node);
});

test('messages over ws_max_frame_bytes close with 4009, whole or in fragments; binary closes with 1003', async (t) => {
  // Every fragment counts against the frame budget (4029 past it): a burst
  // large enough lets the size limit be reached first, which is the point.
  const [node] = await liveCluster(t, 1, { SB_WS_MAX_FRAME_BYTES: '4096', SB_LIVE_FRAME_BURST: '2000' }, { name: 'wsbig' });
  const other = await bystander(node);
  const before = redisState(node.prefix);
  const publishOf = (bytes) => JSON.stringify({ id: 9, op: 'publish', channel: `collab:chapter:${uniqueId()}`, data: { pad: 'p'.repeat(bytes) } });
  await assertClosedWith(node, {
    'one text frame of 5000 bytes': { frames: [wsFrame({ payload: publishOf(5000) })], codes: [4009] },
    'one text frame of 70000 bytes': { frames: [wsFrame({ payload: 'x'.repeat(70000) })], codes: [4009] },
    'ten fragments of 500 bytes': {
      frames: Array.from({ length: 10 }, (_, i) => wsFrame({ opcode: i === 0 ? 1 : 0, fin: i === 9, payload: 'y'.repeat(500) })),
      codes: [4009],
    },
    'a thousand fragments of 5 bytes, never finished': {
      frames: Array.from({ length: 1000 }, (_, i) => wsFrame({ opcode: i === 0 ? 1 : 0, fin: false, payload: 'zzzzz' })),
      codes: [4009],
    },
    'a binary frame': { frames: [wsFrame({ opcode: 2, payload: PING })], codes: [1003] },
    'an empty binary frame': { frames: [wsFrame({ opcode: 2 })], codes: [1003] },
    'a fragmented binary message': { frames: [wsFrame({ opcode: 2, payload: PING.slice(0, 4), fin: false }), wsFrame({ opcode: 0, payload: PING.slice(4) })], codes: [1003] },
  });
  assertUnchanged({ db: {}, redis: before }, node.prefix, [], 'oversized and binary messages');
  await bystanderServed(node, other, 'after the oversized messages');
  await assertServing(node);
});

// The node reads frame headers itself (src/net/websocket_frames.cpp), so a
// declared length over the limit is refused before any of its bytes.
test('a frame that only declares a length over the limit is refused at once, not after waiting for the bytes', async (t) => {
  const [node] = await liveCluster(t, 1, { SB_WS_MAX_FRAME_BYTES: '4096' }, { name: 'wsdeclared' });
  await assertClosedWith(node, {
    // 100000 bytes announced, 10 sent: the limit is known to be passed.
    'a header declaring 100000 bytes': { frames: [wsFrame({ payload: 'x'.repeat(10), length: 100000 })], codes: [4009] },
    // RFC 6455 §5.2: the most significant bit of a 64-bit length must be 0.
    'a 64-bit length with its top bit set': { frames: [wsFrame({ payload: 'x', length: 2n ** 63n + 5n })], codes: [1002, 4009] },
  });
  await assertServing(node);
});

test('a malformed upgrade request is refused with 400/426 and the contract\'s JSON error body', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsupgrade' });
  for (const [what, headers, statuses] of [
    ['no Sec-WebSocket-Key', { 'Sec-WebSocket-Key': null }, [400]],
    ['no Sec-WebSocket-Version', { 'Sec-WebSocket-Version': null }, [400, 426]],
    ['Sec-WebSocket-Version 8', { 'Sec-WebSocket-Version': '8' }, [426]],
    ['Sec-WebSocket-Version garbage', { 'Sec-WebSocket-Version': 'x' }, [400, 426]],
  ]) {
    const ws = await rawWs(node, { headers });
    await ws.conn.until((d) => {
      const text = d.toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? 0);
      return text.includes('\r\n\r\n') && d.length >= text.indexOf('\r\n\r\n') + 4 + length;
    }, { what: 'the whole refusal' });
    const text = ws.conn.data().toString('latin1');
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    assert.ok(statuses.includes(ws.status), `${what}: ${JSON.stringify(text)}`);
    assert.equal(ws.accepted, false, what);
    assert.match(ws.head, /\r\ncontent-type: application\/json/i, `${what}: a JSON error body, got ${JSON.stringify(text)}`);
    let parsed = null;
    try { parsed = JSON.parse(body); } catch { parsed = null; }
    assert.equal(typeof parsed?.error?.code, 'string', `${what}: {"error":{"code","message"}}, got ${JSON.stringify(body)}`);
    ws.conn.destroy();
  }
  await assertServing(node);
});

test('fragmented messages with control frames in between are reassembled (the raw client is right)', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsfragok' });
  const ws = await rawWs(node);
  await ws.send(Buffer.concat([
    wsFrame({ payload: PING.slice(0, 5), fin: false }),
    wsFrame({ opcode: 9, payload: 'mid' }),
    wsFrame({ opcode: 0, payload: PING.slice(5, 9), fin: false }),
    wsFrame({ opcode: 10, payload: 'unsolicited pong' }),
    wsFrame({ opcode: 0, payload: PING.slice(9) }),
  ]));
  const reply = await ws.frame((f) => f.opcode === 1);
  assert.deepEqual(JSON.parse(reply.text), { id: 1, ok: true });
  const pong = ws.frames().find((f) => f.opcode === 10);
  assert.equal(pong?.payload.toString(), 'mid', 'the ping in the middle is answered with its payload');
});

test('client frames the protocol does not know get bad_request replies and the connection stays', async (t) => {
  // ~90 frames back to back: let the frame rate limit (4029) stay out of it.
  const [node] = await liveCluster(t, 1, { SB_LIVE_FRAME_BURST: '1000' }, { name: 'wsframes' });
  const me = await register(node);
  const ws = await openWs(node, { token: me.token });
  const before = redisState(node.prefix);
  const collab = `collab:chapter:${uniqueId()}`;
  const frames = [
    'not json', '', ' ', '[1,2]', '"ping"', '42', 'null', 'true', '{"op":"ping"', '{"op":"ping"}x',
    '{"id":5,"op":"ping",}', "{'op':'ping'}", '\ufeff{"op":"ping"}',
    '{}', '{"op":5}', '{"op":null}', '{"op":"PING"}', '{"op":"bogus"}', '{"op":"ping "}',
    '{"id":-1,"op":"ping"}', '{"id":0,"op":"ping"}', '{"id":"7","op":"ping"}', '{"id":1.5,"op":"ping"}',
    '{"id":true,"op":"ping"}', '{"id":null,"op":"ping"}', '{"id":1e400,"op":"ping"}', '{"id":[1],"op":"ping"}',
    '{"id":18446744073709551616,"op":"ping"}',
    '{"op":"subscribe"}', '{"op":"subscribe","channel":7}', '{"op":"subscribe","channel":""}', '{"op":"subscribe","channel":null}',
    `{"op":"subscribe","channel":"books:${'1'.repeat(130)}"}`, '{"op":"subscribe","channel":["books:1"]}',
    `{"op":"publish","channel":"${collab}"}`,
    `{"op":"publish","channel":"${collab}","data":1e400}`,
    `{"op":"publish","channel":"${collab}","data":{"deep":{"n":-1e400}}}`,
    `{"op":"publish","channel":"${collab}","data":${'['.repeat(40)}${']'.repeat(40)}}`,
    '['.repeat(60000),
    `{"op":"ping","x":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`,
    `{"op":"unsubscribe","channel":"books:${uniqueId()}"}`,
  ];
  for (const [i, text] of frames.entries()) {
    ws.send(text);
    ws.send(JSON.stringify({ id: 100000 + i, op: 'ping' }));
    await nextFrame(ws, (f) => f.id === 100000 + i);
    const replies = ws.pending.splice(0);
    assert.equal(replies.length, 1, `${JSON.stringify(text.slice(0, 80))}: one reply: ${JSON.stringify(replies)}`);
    assertRefused(replies[0], 'bad_request', `frame ${JSON.stringify(text.slice(0, 80))}`);
  }
  assert.equal(ws.closeInfo, null, 'the connection stays open');
  assert.deepEqual(redisState(node.prefix), before, 'nothing was published or stored');
  // A duplicate "id": the last one counts, as in JSON.parse.
  ws.send('{"id":77,"op":"ping","id":78}');
  assert.deepEqual(await nextFrame(ws, (f) => f.id !== undefined), { id: 78, ok: true });
  await assertServing(node);
});

test('since values that are no offsets are refused and subscribe nothing; one past the channel\'s end still gets live pushes', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wssince' });
  const channel = `books:${uniqueId()}`;
  await published(node, channel, 'book.updated', { n: 0 });
  const ws = await openWs(node);
  for (const since of ['-1', 'abc', '1.5', '', '99999999999999999999', '1e3', ' 1', '1 ', '+1', '0x10', '١٢', 5, -1, true, {}, ['1']]) {
    const reply = await request(ws, { op: 'subscribe', channel, since });
    assertRefused(reply, 'bad_request', `since ${JSON.stringify(since)}`);
    assert.ok(reply.error.message.includes('since'), `the message names since: ${reply.error.message}`);
    assertRefused(await request(ws, { op: 'unsubscribe', channel }), 'bad_request', `after since ${JSON.stringify(since)}: not subscribed`);
  }
  // A well-formed offset beyond anything the channel has: no silent skipping of what comes next.
  const reply = await request(ws, { op: 'subscribe', channel, since: '999999999999999999' });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  const offset = await published(node, channel, 'book.updated', { n: 1 });
  const push = await nextFrame(ws, pushOn(channel));
  assert.deepEqual([push.offset, push.data], [offset, { n: 1 }]);
});

test('unknown channels are unknown_channel; another user\'s channel and collab without sign-in are forbidden; none of them delivers', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wschannels' });
  const me = await register(node);
  const you = await register(node);
  const ws = await openWs(node, { token: me.token });
  const anon = await openWs(node);
  const before = redisState(node.prefix);
  const unknown = [
    'user:0', 'user:-1', 'user:01', 'user:9223372036854775808', 'user:me ', 'User:me', 'user:ME', 'user:', 'user',
    'comments:chapter:', 'comments:chapter:0', 'comments:1', 'books:1:x', 'books: 1', 'books:1\n', 'books:1\u0000',
    "books:1'; DROP TABLE users; --", 'books:*', '*', 'ch:books:1', 'collab:chapter:abc', 'collab:book:1', 'books:١',
    'x'.repeat(128),
  ];
  for (const channel of unknown) {
    assertRefused(await request(ws, { op: 'subscribe', channel }), 'unknown_channel', `subscribe ${JSON.stringify(channel)}`);
    assertRefused(await request(ws, { op: 'publish', channel, data: { x: 1 } }), 'unknown_channel', `publish ${JSON.stringify(channel)}`);
  }
  assertRefused(await request(ws, { op: 'subscribe', channel: `user:${you.user.id}` }), 'forbidden', "another user's channel");
  for (const channel of ['user:me', `user:${me.user.id}`, `collab:chapter:${uniqueId()}`])
    assertRefused(await request(anon, { op: 'subscribe', channel }), 'forbidden', `anonymous subscribe ${channel}`);
  assert.deepEqual(redisState(node.prefix), before, 'refused subscriptions store nothing');
  // What the other user gets on their channel never reaches me: my own push arrives, theirs did not come first.
  await subscribe(ws, 'user:me');
  await published(node, `user:${you.user.id}`, 'secret', { for: 'you' });
  const mine = await published(node, `user:${me.user.id}`, 'note', { for: 'me' });
  const push = await nextFrame(ws, (f) => f.event !== undefined);
  assert.equal(push.offset, mine);
  assert.equal(push.channel, `user:${me.user.id}`);
  assert.equal(ws.frames.filter((f) => f.channel === `user:${you.user.id}`).length, 0);
  await assertServing(node);
});

test('publishing to read-only channels is forbidden, stores nothing and reaches nobody', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsreadonly' });
  const me = await register(node);
  const you = await register(node);
  const chapter = uniqueId();
  const book = uniqueId();
  const watchers = await openWs(node, { token: me.token });
  for (const channel of [`comments:chapter:${chapter}`, `books:${book}`, 'user:me']) await subscribe(watchers, channel);
  const ws = await openWs(node, { token: me.token });
  const anon = await openWs(node);
  const before = redisState(node.prefix);
  for (const channel of [`comments:chapter:${chapter}`, `books:${book}`, `user:${me.user.id}`, 'user:me', `user:${you.user.id}`])
    assertRefused(await request(ws, { op: 'publish', channel, data: { forged: true } }), 'forbidden', `publish to ${channel}`);
  assertRefused(await request(anon, { op: 'publish', channel: `collab:chapter:${chapter}`, data: { x: 1 } }), 'forbidden', 'anonymous publish to collab');
  assertRefused(await request(anon, { op: 'publish', channel: `comments:chapter:${chapter}`, data: { x: 1 } }), 'forbidden', 'anonymous publish to comments');
  assert.deepEqual(redisState(node.prefix), before, 'no history, no sequence: nothing was published');
  // The first push each watched channel delivers is the server's.
  for (const channel of [`comments:chapter:${chapter}`, `books:${book}`, `user:${me.user.id}`]) {
    const offset = await published(node, channel, 'server.event', { from: 'server' });
    const push = await nextFrame(watchers, pushOn(channel));
    assert.equal(push.offset, offset, `${channel}: the first push is the server's`);
    assert.equal(pushesOn(watchers, channel).length, 1);
  }
});

test('more than live_max_subscriptions channels on one connection: too_many_subscriptions; the others keep working', async (t) => {
  // Frames are sent back to back: let the frame rate limit (4029) stay out of it.
  const [node] = await liveCluster(t, 1, { SB_LIVE_FRAME_BURST: '1000' }, { name: 'wsmany' });
  const ws = await openWs(node);
  const base = uniqueId();
  const channels = Array.from({ length: 128 }, (_, i) => `books:${base + i}`);
  const replies = await Promise.all(channels.map((channel) => request(ws, { op: 'subscribe', channel })));
  assert.deepEqual(replies.filter((r) => r.ok !== true), [], 'the first 128 are taken');
  for (let i = 0; i < 3; i++)
    assertRefused(await request(ws, { op: 'subscribe', channel: `books:${base + 1000 + i}` }), 'too_many_subscriptions', `subscription ${129 + i}`);
  assertRefused(await request(ws, { op: 'subscribe', channel: channels[0] }), 'bad_request', 'a channel already subscribed');
  for (const channel of [channels[0], channels[127]]) {
    const offset = await published(node, channel, 'book.updated', { n: 1 });
    assert.equal((await nextFrame(ws, pushOn(channel))).offset, offset, `${channel} still delivers`);
  }
  assert.equal((await request(ws, { op: 'unsubscribe', channel: channels[5] })).ok, true);
  assert.equal((await request(ws, { op: 'subscribe', channel: `books:${base + 2000}` })).ok, true, 'room again after an unsubscribe');
  assert.equal(ws.closeInfo, null);
});

test('SSE for hundreds of channels: up to live_max_subscriptions streams, more is 400, a URL past the header limit 413', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'ssemany' });
  const you = await register(node);
  const before = redisState(node.prefix);
  const base = uniqueId();
  const names = (n, from = 0) => Array.from({ length: n }, (_, i) => `books:${base + from + i}`);
  const ok = await sse(node, { channels: names(128) });
  assert.equal(ok.status, 200);
  const offset = await published(node, `books:${base + 127}`, 'book.updated', { last: true });
  await ok.close();
  // Refused counts use short names, so that even 500 fit in max_header_bytes.
  const short = (n) => Array.from({ length: n }, (_, i) => `books:${i + 1}`);
  for (const n of [129, 200, 300, 500]) {
    const res = await openSse(node, { channels: short(n) });
    assert.equal(res.status, 400, `${n} channels: ${res.text}`);
    assert.equal(res.body?.error?.code, 'bad_request', `${n} channels`);
    assert.ok(res.body.error.message.includes('channels'), res.text);
  }
  const huge = await openSse(node, { channels: short(1000) });
  assert.equal(huge.status, 413, `1000 channels (a ~10 KiB URL): ${huge.text}`);
  assert.equal(huge.body?.error?.code, 'too_large');
  // Hundreds of names with one bad one: refused as a whole.
  for (const [what, channels, status, code] of [
    ['127 good and one unknown', [...names(127), 'nope:1'], 400, 'unknown_channel'],
    ['127 good and an empty name', [...names(127), ''], 400, 'unknown_channel'],
    ['127 good and another user\'s channel', [...names(127), `user:${you.user.id}`], 403, 'forbidden'],
  ]) {
    const res = await openSse(node, { channels });
    assert.equal(res.status, status, `${what}: ${res.text}`);
    assert.equal(res.body?.error?.code, code, what);
  }
  const after = redisState(node.prefix).filter((k) => !k.includes(`:books:${base + 127} `));
  assert.deepEqual(after, before, 'refused streams store nothing');
  assert.ok(offset);
  await assertServing(node);
});

test('SSE with unknown or forbidden channels or a malformed Last-Event-ID is an HTTP error; no stream starts', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'ssebad' });
  const me = await register(node);
  const you = await register(node);
  const channel = `books:${uniqueId()}`;
  const good = await sse(node, { channels: [channel, `comments:chapter:${uniqueId()}`] });
  await published(node, channel, 'book.updated', { n: 1 });
  const event = await nextEvent(good, (r) => r.json?.channel === channel);
  await good.close();
  const otherSetId = event.id; // a resume id made for another channel set
  const before = redisState(node.prefix);
  const cases = [
    ['no channels parameter', { channels: undefined }, 400, 'bad_request'],
    ['an empty channels parameter', { channels: '' }, 400, 'bad_request'],
    ['a lone comma', { channels: ',' }, 400, 'unknown_channel'],
    ['an empty name between commas', { channels: `${channel},,${channel}` }, 400, 'unknown_channel'],
    ['an unknown channel', { channels: 'nope' }, 400, 'unknown_channel'],
    ['an id out of range', { channels: 'books:9223372036854775808' }, 400, 'unknown_channel'],
    ['a leading zero', { channels: 'books:01' }, 400, 'unknown_channel'],
    ['SQL in a name', { channels: "books:1'--" }, 400, 'unknown_channel'],
    ['another user\'s channel', { channels: `user:${you.user.id}`, token: me.token }, 403, 'forbidden'],
    ['user:me anonymously', { channels: 'user:me' }, 403, 'forbidden'],
    ['collab anonymously', { channels: `collab:chapter:${uniqueId()}` }, 403, 'forbidden'],
    ['a garbage Last-Event-ID', { channels: channel, lastEventId: 'garbage' }, 400, 'bad_request'],
    ['a Last-Event-ID of the wrong shape', { channels: channel, lastEventId: '00000000.1' }, 400, 'bad_request'],
    ['a 5000-byte Last-Event-ID', { channels: channel, lastEventId: 'x'.repeat(5000) }, 400, 'bad_request'],
    ['a Last-Event-ID of another channel set', { channels: channel, lastEventId: otherSetId }, 400, 'bad_request'],
    ['a garbage last_event_id query parameter', { channels: channel, lastEventId: '%%%', lastEventIdVia: 'query' }, 400, 'bad_request'],
    ['a Last-Event-ID with a negative offset', { channels: channel, lastEventId: otherSetId.replace(/\d+$/, '-5') }, 400, 'bad_request'],
  ];
  for (const [what, options, status, code] of cases) {
    const res = await openSse(node, options);
    assert.equal(res.ok, false, `${what}: no stream may start`);
    assert.equal(res.status, status, `${what}: ${res.text}`);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/, what);
    assert.equal(res.body?.error?.code, code, `${what}: ${res.text}`);
  }
  assertUnchanged({ db: {}, redis: before }, node.prefix, [], 'refused SSE requests');
  await assertServing(node);
});
