// live_publish — the server publish API (POST /api/publish with X-Api-Key:
// 202 {offset}, 401, 400, unknown_channel) and delivery through the cluster:
// a message published on one node (by the API or by a client) reaches the
// subscribers connected to every node, in publish order.
// Never: waits for time; a refused publish is shown to deliver nothing by a
// later accepted one arriving first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, register, API_KEY } from './lib/harness.mjs';
import {
  liveCluster, openWs, nextFrame, request, subscribe, pushOn, pushesOn, publish, published, uniqueId,
} from './lib/live.mjs';

/** POST /api/publish with a raw body string (for malformed bodies). */
async function publishRaw(node, body, { apiKey = API_KEY, contentType = 'application/json' } = {}) {
  const res = await fetch(`${node.url}/api/publish`, {
    method: 'POST',
    headers: { 'Content-Type': contentType, 'X-Api-Key': apiKey },
    body,
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: res.status, body: parsed, text };
}

test('POST /api/publish needs the API key: 401 without it or with a wrong one', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'pubkey' });
  const channel = `books:${uniqueId()}`;
  for (const [apiKey, what] of [[null, 'no X-Api-Key'], ['wrong-key', 'a wrong key'], ['', 'an empty key'], [API_KEY + 'x', 'a longer key']]) {
    const res = await publish(node, channel, 'book.updated', { n: 1 }, undefined, { apiKey });
    assert.equal(res.status, 401, `${what}: ${res.text}`);
    assert.equal(res.body?.error?.code, 'unauthorized', `${what}: ${res.text}`);
  }
  // A user's bearer token is not the API key.
  const me = await register(node);
  const bearer = await api(node, 'POST', '/api/publish', {
    token: me.token,
    body: { channel, event: 'book.updated', data: { n: 1 } },
  });
  assert.equal(bearer.status, 401, `a bearer token does not open the publish API: ${bearer.text}`);

  const ok = await publish(node, channel, 'book.updated', { n: 2 });
  assert.equal(ok.status, 202, ok.text);
  assert.deepEqual(Object.keys(ok.body ?? {}), ['offset'], ok.text);
  assert.equal(typeof ok.body.offset, 'string');
  assert.match(ok.headers.get('content-type') ?? '', /^application\/json/);
  const next = await publish(node, channel, 'book.updated', { n: 3 });
  assert.equal(next.status, 202, next.text);
  assert.notEqual(next.body.offset, ok.body.offset, 'each message has its own offset');
});

test('POST /api/publish answers 400 bad_request for a malformed body or a missing or ill-typed channel or event', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'pubbad' });
  const channel = `comments:chapter:${uniqueId()}`;
  for (const [body, names, what] of [
    ['{not json', null, 'malformed JSON'],
    ['', null, 'an empty body'],
    ['[1,2]', null, 'an array'],
    ['"text"', null, 'a string'],
    [JSON.stringify({ event: 'x', data: { n: 1 } }), /channel/, 'no channel'],
    [JSON.stringify({ channel, data: { n: 1 } }), /event/, 'no event'],
    [JSON.stringify({ channel: 42, event: 'x', data: { n: 1 } }), /channel/, 'channel not a string'],
    [JSON.stringify({ channel, event: 42, data: { n: 1 } }), /event/, 'event not a string'],
    [JSON.stringify({ channel: null, event: 'x', data: { n: 1 } }), /channel/, 'channel null'],
  ]) {
    const res = await publishRaw(node, body);
    assert.equal(res.status, 400, `${what}: ${res.text}`);
    assert.equal(res.body?.error?.code, 'bad_request', `${what}: ${res.text}`);
    if (names) assert.match(res.body.error.message, names, `${what}: the message names the field`);
  }
});

test('a refused POST /api/publish delivers nothing', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'pubrefused' });
  const channel = `comments:chapter:${uniqueId()}`;
  const ws = await openWs(node);
  await subscribe(ws, channel);
  for (const key of [null, 'wrong-key'])
    assert.equal((await publish(node, channel, 'comment.created', { forged: true }, undefined, { apiKey: key })).status, 401);
  for (const body of [{ channel, data: { forged: true } }, { channel, event: 7, data: { forged: true } }])
    assert.equal((await publishRaw(node, JSON.stringify(body))).status, 400);

  const offset = await published(node, channel, 'comment.created', { forged: false });
  assert.equal((await nextFrame(ws, pushOn(channel))).offset, offset, 'the first push is the accepted publish');
  assert.deepEqual(ws.frames.filter((f) => f.data?.forged === true), []);
});

test('POST /api/publish to an unknown channel is 400 unknown_channel', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'pubunknown' });
  for (const channel of ['foo:1', 'books:abc', 'user:0', 'books:0', 'comments:chapter:-1', 'collab:chapter:x', 'books:1:2']) {
    const res = await publish(node, channel, 'x', { n: 1 });
    assert.equal(res.status, 400, `${JSON.stringify(channel)}: ${res.text}`);
    assert.equal(res.body?.error?.code, 'unknown_channel', `${JSON.stringify(channel)}: ${res.text}`);
    assert.equal(typeof res.body.error.message, 'string');
  }
});

test('the server may publish to every kind of channel; hints are passed through', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'pubkinds' });
  const me = await register(node);
  const ws = await openWs(node, { token: me.token });
  const channels = [
    `user:${me.user.id}`,
    `books:${uniqueId()}`,
    `comments:chapter:${uniqueId()}`,
    `collab:chapter:${uniqueId()}`,
  ];
  for (const channel of channels) await subscribe(ws, channel);
  for (const channel of channels) {
    const hints = { invalidate: [[channel, 'list']] };
    const res = await publish(node, channel, 'server.event', { on: channel }, hints);
    assert.equal(res.status, 202, `${channel}: ${res.text}`);
    const push = await nextFrame(ws, pushOn(channel));
    assert.deepEqual(push, { channel, offset: res.body.offset, event: 'server.event', data: { on: channel }, hints });
  }
});

test('pushes arrive in publish order with the offsets the publishes returned', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'puborder' });
  const channel = `comments:chapter:${uniqueId()}`;
  const ws = await openWs(node);
  await subscribe(ws, channel);
  const offsets = [];
  for (let seq = 1; seq <= 30; seq++) offsets.push(await published(node, channel, 'comment.created', { seq }));
  assert.equal(new Set(offsets).size, offsets.length, 'every message has its own offset');
  for (let seq = 1; seq <= 30; seq++) {
    const push = await nextFrame(ws, pushOn(channel));
    assert.equal(push.data.seq, seq, 'in publish order');
    assert.equal(push.offset, offsets[seq - 1]);
  }
  await request(ws, { op: 'ping' });
  assert.equal(pushesOn(ws, channel).length, 30, 'each once');
});

test('a POST /api/publish on one node reaches the subscribers on every node', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'pubcluster' });
  const comments = `comments:chapter:${uniqueId()}`;
  const me = await register(a);
  const own = `user:${me.user.id}`;

  const onA = await openWs(a);
  const onB = await openWs(b);
  const userOnB = await openWs(b, { token: me.token }); // the session lives in the shared Redis
  await subscribe(onA, comments);
  await subscribe(onB, comments);
  const reply = await request(userOnB, { op: 'subscribe', channel: 'user:me' });
  assert.equal(reply.channel, own, JSON.stringify(reply));

  const viaA = await published(a, comments, 'comment.created', { from: 'a' });
  for (const ws of [onA, onB]) assert.equal((await nextFrame(ws, pushOn(comments))).offset, viaA);
  const viaB = await published(b, comments, 'comment.created', { from: 'b' });
  for (const ws of [onA, onB]) assert.equal((await nextFrame(ws, pushOn(comments))).offset, viaB);

  const toUser = await published(a, own, 'balance.updated', { coins: 3 });
  const push = await nextFrame(userOnB, pushOn(own));
  assert.deepEqual(push, { channel: own, offset: toUser, event: 'balance.updated', data: { coins: 3 } });
});

test('messages published alternately through two nodes reach both nodes in publish order', async (t) => {
  const nodes = await liveCluster(t, 2, {}, { name: 'puborder2' });
  const channel = `books:${uniqueId()}`;
  const sockets = [];
  for (const node of nodes)
    for (let i = 0; i < 2; i++) {
      const ws = await openWs(node);
      await subscribe(ws, channel);
      sockets.push(ws);
    }
  const offsets = [];
  for (let seq = 1; seq <= 20; seq++) offsets.push(await published(nodes[seq % 2], channel, 'book.updated', { seq }));
  for (const ws of sockets) {
    for (let seq = 1; seq <= 20; seq++) {
      const push = await nextFrame(ws, pushOn(channel));
      assert.equal(push.data.seq, seq, `${ws.node.name}: in publish order`);
      assert.equal(push.offset, offsets[seq - 1]);
    }
  }
});

test('a client publish on one node reaches the collab subscribers on every node', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'pubclient' });
  const channel = `collab:chapter:${uniqueId()}`;
  const alice = await register(a);
  const bob = await register(b);
  const aliceWs = await openWs(a, { token: alice.token });
  const bobWs = await openWs(b, { token: bob.token });
  const bobOnA = await openWs(a, { token: bob.token });
  for (const ws of [aliceWs, bobWs, bobOnA]) await subscribe(ws, channel);

  const reply = await request(aliceWs, { op: 'publish', channel, data: { text: 'from a' } });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  for (const ws of [aliceWs, bobWs, bobOnA])
    assert.deepEqual(await nextFrame(ws, pushOn(channel)), { channel, offset: reply.offset, event: 'message', data: { text: 'from a' } });

  const back = await request(bobWs, { op: 'publish', channel, data: { text: 'from b' } });
  assert.equal(back.ok, true, JSON.stringify(back));
  for (const ws of [aliceWs, bobWs, bobOnA])
    assert.deepEqual(await nextFrame(ws, pushOn(channel)), { channel, offset: back.offset, event: 'message', data: { text: 'from b' } });
});
