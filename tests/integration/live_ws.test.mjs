// live_ws — the WebSocket protocol of GET /ws against a real node: the
// upgrade and its token (header, query, none, unknown → close 4001), the
// client frames (ping, subscribe, unsubscribe, publish) and their replies,
// who may subscribe to or publish on which channel, the error replies
// (unknown_channel, forbidden, bad_request) and the shape of a push.
// Never: waits for time — every wait is for a frame or a close; checks that
// something did NOT arrive only behind a later frame that must arrive after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, register } from './lib/harness.mjs';
import {
  liveCluster, openWs, nextFrame, request, subscribe, closed, pushOn, pushesOn,
  published, assertRefused, uniqueId,
} from './lib/live.mjs';

const PUSH_KEYS = ['channel', 'data', 'event', 'offset'];

test('GET /ws upgrades; ping is answered with its id', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsping' });
  const ws = await openWs(node);
  const first = await request(ws, { op: 'ping' });
  assert.deepEqual(first, { id: 1, ok: true });
  const second = await request(ws, { op: 'ping' });
  assert.deepEqual(second, { id: 2, ok: true });
  // Ids are the client's: any number comes back as sent.
  ws.send(JSON.stringify({ id: 987654321, op: 'ping' }));
  assert.deepEqual(await nextFrame(ws, (f) => f.id === 987654321), { id: 987654321, ok: true });
});

test('anonymous clients subscribe to comments and books channels; the reply names the channel and its offset', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsanon' });
  const ws = await openWs(node);
  for (const channel of [`comments:chapter:${uniqueId()}`, `books:${uniqueId()}`]) {
    const reply = await request(ws, { op: 'subscribe', channel });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    assert.equal(reply.channel, channel);
    assert.equal(typeof reply.offset, 'string', `the reply carries the channel's offset: ${JSON.stringify(reply)}`);
    assert.equal(reply.error, undefined);

    const offset = await published(node, channel, 'test.event', { n: 1 });
    const push = await nextFrame(ws, pushOn(channel));
    assert.deepEqual(push, { channel, offset, event: 'test.event', data: { n: 1 } });
  }
});

test('a push is {channel, offset, event, data, hints?} with no id; its offset is the one the publish returned', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wspush' });
  const chapter = uniqueId();
  const channel = `comments:chapter:${chapter}`;
  const ws = await openWs(node);
  await subscribe(ws, channel);

  const data = { id: 5, chapter_id: chapter, body: 'Hello “world” ✓', nested: { list: [1, 2, { x: null }] } };
  const hints = { invalidate: [['comments', 'chapter', chapter]], set: { key: ['comment', 5], data: { id: 5 } } };
  const withHints = await published(node, channel, 'comment.created', data, hints);
  const without = await published(node, channel, 'comment.deleted', { id: 5 });
  assert.notEqual(withHints, without, 'each message has its own offset');

  const a = await nextFrame(ws, pushOn(channel));
  assert.deepEqual(Object.keys(a).sort(), [...PUSH_KEYS, 'hints'].sort(), JSON.stringify(a));
  assert.deepEqual(a, { channel, offset: withHints, event: 'comment.created', data, hints });
  const b = await nextFrame(ws, pushOn(channel));
  assert.deepEqual(Object.keys(b).sort(), PUSH_KEYS, `no hints key when none were given: ${JSON.stringify(b)}`);
  assert.deepEqual(b, { channel, offset: without, event: 'comment.deleted', data: { id: 5 } });
});

test('a token in the Authorization header signs the connection in: user:me is the user\'s own channel', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsbearer' });
  const me = await register(node);
  const ws = await openWs(node, { token: me.token });
  const own = `user:${me.user.id}`;
  const reply = await request(ws, { op: 'subscribe', channel: 'user:me' });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  assert.equal(reply.channel, own, 'the reply names the real channel, not the alias');
  assert.equal(typeof reply.offset, 'string');

  const offset = await published(node, own, 'balance.updated', { coins: 7 }, { set: { key: ['me', 'balance'], data: { coins: 7 } } });
  const push = await nextFrame(ws, pushOn(own));
  assert.equal(push.channel, own, 'pushes carry user:<id>');
  assert.equal(push.offset, offset);
  assert.deepEqual(push.data, { coins: 7 });
  assert.equal(pushesOn(ws, 'user:me').length, 0, 'nothing is pushed under the alias');

  // The explicit name works as well.
  const explicit = await openWs(node, { token: me.token });
  const reply2 = await request(explicit, { op: 'subscribe', channel: own });
  assert.equal(reply2.ok, true, JSON.stringify(reply2));
  assert.equal(reply2.channel, own);
});

test('a token in ?access_token= signs the connection in too', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsquery' });
  const me = await register(node);
  const ws = await openWs(node, { token: me.token, via: 'query' });
  const reply = await request(ws, { op: 'subscribe', channel: 'user:me' });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  assert.equal(reply.channel, `user:${me.user.id}`);
  const collab = await request(ws, { op: 'subscribe', channel: `collab:chapter:${uniqueId()}` });
  assert.equal(collab.ok, true, `signed in, so collab is allowed: ${JSON.stringify(collab)}`);
});

test('a token that is present but unknown: the upgrade succeeds, then the server closes with 4001', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'ws4001' });
  const header = await openWs(node, { token: 'not-a-real-token' });
  assert.equal((await closed(header)).code, 4001, 'Authorization: Bearer with an unknown token');
  const query = await openWs(node, { token: 'not-a-real-token', via: 'query' });
  assert.equal((await closed(query)).code, 4001, '?access_token= with an unknown token');

  // A token that worked and was ended (logout) is as good as expired.
  const me = await register(node);
  const out = await api(node, 'POST', '/api/auth/logout', { token: me.token });
  assert.equal(out.status, 204, out.text);
  const stale = await openWs(node, { token: me.token });
  assert.equal((await closed(stale)).code, 4001, 'a logged-out token');

  // The node goes on serving: anonymous and valid connections still work.
  const anon = await openWs(node);
  assert.deepEqual(await request(anon, { op: 'ping' }), { id: 1, ok: true });
  const other = await register(node);
  const good = await openWs(node, { token: other.token });
  const reply = await request(good, { op: 'subscribe', channel: 'user:me' });
  assert.equal(reply.ok, true, JSON.stringify(reply));
});

test('user:<id> is for that user only', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsuser' });
  const alice = await register(node);
  const bob = await register(node);
  const aliceChannel = `user:${alice.user.id}`;
  const bobChannel = `user:${bob.user.id}`;

  const anon = await openWs(node);
  assertRefused(await request(anon, { op: 'subscribe', channel: aliceChannel }), 'forbidden', 'anonymous on user:<id>');
  assertRefused(await request(anon, { op: 'subscribe', channel: 'user:me' }), 'forbidden', 'anonymous on user:me');

  const bobWs = await openWs(node, { token: bob.token });
  const refused = await request(bobWs, { op: 'subscribe', channel: aliceChannel });
  assertRefused(refused, 'forbidden', 'bob on alice\'s channel');
  assert.equal(refused.id, 1, 'an error reply carries the request id');
  assert.deepEqual(Object.keys(refused).sort(), ['error', 'id', 'ok']);
  await subscribe(bobWs, bobChannel);

  const aliceWs = await openWs(node, { token: alice.token });
  await subscribe(aliceWs, aliceChannel);

  // A message for alice reaches alice only; one for bob then reaches bob,
  // so bob would have had alice's by then had it been sent to him.
  const forAlice = await published(node, aliceChannel, 'notification.created', { to: 'alice' });
  assert.equal((await nextFrame(aliceWs, pushOn(aliceChannel))).offset, forAlice);
  const forBob = await published(node, bobChannel, 'notification.created', { to: 'bob' });
  assert.equal((await nextFrame(bobWs, pushOn(bobChannel))).offset, forBob);
  assert.equal(pushesOn(bobWs, aliceChannel).length, 0);
  assert.equal(pushesOn(anon, aliceChannel).length, 0);
  assert.deepEqual(bobWs.frames.filter((f) => f.data?.to === 'alice'), [], 'bob saw nothing of alice\'s');
});

test('collab:chapter:<id> is for signed-in users; a client publish reaches every subscriber, the publisher too', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wscollab' });
  const channel = `collab:chapter:${uniqueId()}`;
  const alice = await register(node);
  const bob = await register(node);
  const carol = await register(node);

  const anon = await openWs(node);
  assertRefused(await request(anon, { op: 'subscribe', channel }), 'forbidden', 'anonymous subscribing to collab');
  assertRefused(
    await request(anon, { op: 'publish', channel, data: { text: 'anonymous' } }),
    'forbidden',
    'anonymous publishing to collab',
  );

  const aliceWs = await openWs(node, { token: alice.token });
  const bobWs = await openWs(node, { token: bob.token });
  await subscribe(aliceWs, channel);
  await subscribe(bobWs, channel);

  const data = { op: 'insert', pos: 12, text: 'héllo', meta: { cursor: [1, 2] } };
  const reply = await request(aliceWs, { op: 'publish', channel, data });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  assert.equal(reply.channel, channel);
  assert.equal(typeof reply.offset, 'string');
  for (const [who, ws] of [['alice (the publisher)', aliceWs], ['bob', bobWs]]) {
    const push = await nextFrame(ws, pushOn(channel));
    assert.deepEqual(push, { channel, offset: reply.offset, event: 'message', data }, who);
  }

  // A signed-in user who is not subscribed may publish too; it reaches the subscribers.
  const carolWs = await openWs(node, { token: carol.token });
  const fromCarol = await request(carolWs, { op: 'publish', channel, data: { text: 'from carol' } });
  assert.equal(fromCarol.ok, true, JSON.stringify(fromCarol));
  for (const ws of [aliceWs, bobWs]) {
    const push = await nextFrame(ws, pushOn(channel));
    assert.deepEqual(push, { channel, offset: fromCarol.offset, event: 'message', data: { text: 'from carol' } });
  }
  assert.notEqual(fromCarol.offset, reply.offset);
  assert.equal(pushesOn(carolWs, channel).length, 0, 'carol is not subscribed: no push for her');
  assert.equal(pushesOn(anon, channel).length, 0, 'the refused subscriber got nothing');
});

test('client publish is refused outside collab, and a refused publish delivers nothing', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wspubrefused' });
  const me = await register(node);
  const ws = await openWs(node, { token: me.token });
  const books = `books:${uniqueId()}`;
  const comments = `comments:chapter:${uniqueId()}`;
  const own = `user:${me.user.id}`;

  const watcher = await openWs(node, { token: me.token });
  for (const channel of [books, comments, own]) await subscribe(watcher, channel);

  for (const channel of [books, comments, own, 'user:me'])
    assertRefused(await request(ws, { op: 'publish', channel, data: { forged: true } }), 'forbidden', `publish to ${channel}`);
  assertRefused(await request(ws, { op: 'publish', channel: 'foo:1', data: {} }), 'unknown_channel', 'publish to foo:1');

  // The server's own publishes get through; the first push on each channel is the server's.
  for (const channel of [books, comments, own]) {
    const offset = await published(node, channel, 'server.event', { forged: false });
    const push = await nextFrame(watcher, pushOn(channel));
    assert.equal(push.offset, offset, `${channel}: the first push is the server's`);
    assert.deepEqual(push.data, { forged: false });
  }
  assert.deepEqual(watcher.frames.filter((f) => f.data?.forged === true), []);
});

test('unknown channels are refused with unknown_channel', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsunknown' });
  const me = await register(node);
  const ws = await openWs(node, { token: me.token });
  const unknown = [
    'foo:1', 'books:abc', 'user:0', 'books:0', 'books:-3', 'books:1.5', 'books:', 'books', 'books:1:2',
    'comments:1', 'comments:chapter:', 'comments:chapter:abc', 'comments:book:1', 'collab:chapter:0',
    'collab:book:1', 'user:abc', 'user:-1', 'books:99999999999999999999', 'BOOKS:1',
  ];
  for (const channel of unknown) {
    const reply = await request(ws, { op: 'subscribe', channel });
    assertRefused(reply, 'unknown_channel', `subscribe ${JSON.stringify(channel)}`);
  }
  // The largest positive 64-bit id is a valid one.
  const max = await request(ws, { op: 'subscribe', channel: 'books:9223372036854775807' });
  assert.equal(max.ok, true, JSON.stringify(max));
  assert.equal((await request(ws, { op: 'ping' })).ok, true, 'still connected');
});

test('bad frames get bad_request replies and the connection goes on', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsbad' });
  const me = await register(node);
  const ws = await openWs(node, { token: me.token });

  // Not JSON, or JSON that is not an object: the reply has no id to carry.
  for (const text of ['{not json', '', '[1,2]', '42', '"subscribe"', 'null']) {
    ws.send(text);
    const reply = await nextFrame(ws, (f) => f.ok === false);
    assertRefused(reply, 'bad_request', `frame ${JSON.stringify(text)}`);
    assert.equal(reply.id, undefined, `frame ${JSON.stringify(text)}: no id in the reply: ${JSON.stringify(reply)}`);
  }

  const channel = `books:${uniqueId()}`;
  const cases = [
    [{}, /op/, 'no op'],
    [{ op: 42 }, /op/, 'op not a string'],
    [{ op: 'dance' }, /op|dance/, 'an unknown op'],
    [{ op: 'subscribe' }, /channel/, 'subscribe without channel'],
    [{ op: 'subscribe', channel: 42 }, /channel/, 'channel not a string'],
    [{ op: 'subscribe', channel, since: 5 }, /since/, 'since not a string'],
    [{ op: 'unsubscribe' }, /channel/, 'unsubscribe without channel'],
    [{ op: 'publish', data: { a: 1 } }, /channel/, 'publish without channel'],
  ];
  for (const [frame, names, what] of cases) {
    const reply = await request(ws, frame);
    assertRefused(reply, 'bad_request', what);
    assert.match(reply.error.message, names, `${what}: the message names the field`);
  }
  // None of that subscribed to anything, and the connection still works.
  const ok = await request(ws, { op: 'subscribe', channel });
  assert.equal(ok.ok, true, JSON.stringify(ok));
  const offset = await published(node, channel, 'book.updated', { title: 'x' });
  assert.equal((await nextFrame(ws, pushOn(channel))).offset, offset);
  assert.equal(pushesOn(ws, channel).length, 1, 'one subscription, one push');
});

test('unsubscribe stops the pushes of that channel only', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'wsunsub' });
  const dropped = `comments:chapter:${uniqueId()}`;
  const kept = `comments:chapter:${uniqueId()}`;
  const ws = await openWs(node);
  const witness = await openWs(node);
  await subscribe(ws, dropped);
  await subscribe(ws, kept);
  await subscribe(witness, dropped);

  const before = await published(node, dropped, 'comment.created', { n: 1 });
  assert.equal((await nextFrame(ws, pushOn(dropped))).offset, before, 'subscribed: delivered');
  await nextFrame(witness, pushOn(dropped));

  const reply = await request(ws, { op: 'unsubscribe', channel: dropped });
  assert.deepEqual(reply, { id: reply.id, ok: true, channel: dropped });

  // After the unsubscribe reply, a message on `dropped` must not reach ws. The
  // witness (same node, still subscribed) gets it, then one on `kept` reaches
  // ws, then a ping round trip: by then ws has all the node would send it.
  const after = await published(node, dropped, 'comment.created', { n: 2 });
  assert.equal((await nextFrame(witness, pushOn(dropped))).offset, after);
  const keptOffset = await published(node, kept, 'comment.created', { n: 3 });
  assert.equal((await nextFrame(ws, pushOn(kept))).offset, keptOffset, 'the other channel goes on');
  await request(ws, { op: 'ping' });
  assert.deepEqual(pushesOn(ws, dropped).map((p) => p.offset), [before], 'nothing after the unsubscribe');

  // Subscribing again brings the channel back.
  await subscribe(ws, dropped);
  const again = await published(node, dropped, 'comment.created', { n: 4 });
  assert.equal((await nextFrame(ws, pushOn(dropped))).offset, again);
});
