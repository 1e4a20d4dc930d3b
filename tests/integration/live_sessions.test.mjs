// live_sessions — the session side of live connections: a logout closes
// every WebSocket and SSE stream opened with that token, on every node, and
// leaves the user's other tokens alone; per-connection publish and frame
// rate limits; a draining node tells its live clients 1001 and exits 0.
// Never: waits for time (rate limits are driven past their burst in one go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, redis, register, stats, waitFor } from './lib/harness.mjs';
import {
  liveCluster, openWs, nextFrame, request, subscribe, closed, pushOn, published, uniqueId, sse, sseEnded,
  sseUntil,
} from './lib/live.mjs';

async function login(node, username) {
  const res = await api(node, 'POST', '/api/auth/login', { body: { username, password: 'password123' } });
  assert.equal(res.status, 200, res.text);
  return res.body.token;
}

const userActors = async (node) => (await stats(node)).actors.user.count;

test('logout closes every connection opened with the token, on every node, and no other', async (t) => {
  const [a, b] = await liveCluster(t, 2);
  const { token, user } = await register(a);
  const other = await login(b, user.username); // the same user on another device
  const mine = `user:${user.id}`;

  const wsA = await openWs(a, { token });
  const wsB = await openWs(b, { token, via: 'query' });
  const sseB = await sse(b, { channels: [mine], token });
  const keptWs = await openWs(b, { token: other });
  for (const ws of [wsA, wsB, keptWs]) await subscribe(ws, mine);
  // Each node has one session actor for the user, holding its connections.
  await waitFor(async () => (await userActors(a)) === 1 && (await userActors(b)) === 1, {
    what: 'a session actor on each node',
  });

  const out = await api(a, 'POST', '/api/auth/logout', { token });
  assert.equal(out.status, 204);

  for (const ws of [wsA, wsB]) {
    const info = await closed(ws);
    assert.equal(info.code, 4001, `closed with 4001, got ${JSON.stringify(info)}`);
  }
  await sseEnded(sseB);

  // The token no longer works, for HTTP or live connections.
  assert.equal((await api(b, 'PATCH', '/api/users/me', { token, body: { bio: 'x' } })).status, 401);
  const again = await openWs(b, { token });
  assert.equal((await closed(again)).code, 4001);

  // The other token of the same user is untouched and still gets pushes.
  const offset = await published(a, mine, 'balance.updated', { coins: 5 });
  assert.equal((await nextFrame(keptWs, pushOn(mine))).offset, offset);
  assert.equal(keptWs.closeInfo, null);

  // Once its connections are gone, node a retires the user's session actor.
  await waitFor(async () => (await userActors(a)) === 0, { what: 'the session actor on a to retire' });
});

test('logging out an unknown or already ended token is 204; without a token it is 401', async (t) => {
  const [a] = await liveCluster(t, 1);
  const { token } = await register(a);
  assert.equal((await api(a, 'POST', '/api/auth/logout', { token })).status, 204);
  assert.equal((await api(a, 'POST', '/api/auth/logout', { token })).status, 204);
  assert.equal((await api(a, 'POST', '/api/auth/logout')).status, 401);
});

test('client publishes over the rate get rate_limited with a retry time; the connection stays', async (t) => {
  const [a] = await liveCluster(t, 1, { SB_LIVE_PUBLISH_RATE: '1', SB_LIVE_PUBLISH_BURST: '3' });
  const { token } = await register(a);
  const channel = `collab:chapter:${uniqueId()}`;
  const ws = await openWs(a, { token });
  await subscribe(ws, channel);
  const replies = await Promise.all(
    Array.from({ length: 6 }, (_, i) => request(ws, { op: 'publish', channel, data: { n: i } })),
  );
  const accepted = replies.filter((r) => r.ok);
  const refused = replies.filter((r) => !r.ok);
  assert.equal(accepted.length, 3, `the burst of 3 passes: ${JSON.stringify(replies)}`);
  assert.equal(refused.length, 3);
  for (const r of refused) {
    assert.equal(r.error.code, 'rate_limited');
    assert.ok(Number.isInteger(r.error.retry_after_ms) && r.error.retry_after_ms > 0, JSON.stringify(r));
  }
  // Only the accepted ones were published.
  for (const r of accepted) await nextFrame(ws, (f) => pushOn(channel)(f) && f.offset === r.offset);
  assert.equal((await request(ws, { op: 'ping' })).ok, true);
  assert.equal(ws.closeInfo, null);
});

test('a client flooding frames past the frame rate is closed with 4029; others are unaffected', async (t) => {
  const [a] = await liveCluster(t, 1, { SB_LIVE_FRAME_RATE: '5', SB_LIVE_FRAME_BURST: '20' });
  const channel = `comments:chapter:${uniqueId()}`;
  const calm = await openWs(a);
  await subscribe(calm, channel);
  const flooder = await openWs(a);
  // The burst first, answered; then the flood. (Sent in one go, the node may
  // read all 200 in one pass and decide the close before any reply comes
  // back from the actor: replies queued behind a rule-break close are
  // dropped with it, so "the burst was answered" would be luck.)
  for (let i = 1; i <= 20; i++) flooder.send(JSON.stringify({ id: i, op: 'ping' }));
  await waitFor(() => flooder.frames.filter((f) => f.ok === true).length === 20, { what: 'the burst\'s 20 replies' });
  for (let i = 21; i <= 200; i++) flooder.send(JSON.stringify({ id: i, op: 'ping' }));
  const info = await closed(flooder);
  assert.equal(info.code, 4029);
  const pongs = flooder.frames.filter((f) => f.ok === true).length;
  // Replies still queued when the close is decided may be dropped with it.
  assert.ok(pongs > 0 && pongs <= 25, `the burst was answered, the flood was not (${pongs} pongs)`);
  const offset = await published(a, channel, 'comment.created', { after: 'the flood' });
  assert.equal((await nextFrame(calm, pushOn(channel))).offset, offset);
});

test('SIGTERM drains: live clients are told 1001 / their stream ends, and the node exits 0', async (t) => {
  const [a] = await liveCluster(t, 1);
  const { token, user } = await register(a);
  const channel = `comments:chapter:${uniqueId()}`;
  const ws = await openWs(a, { token });
  await subscribe(ws, channel);
  const stream = await sse(a, { channels: [channel, `user:${user.id}`], token });
  await sseUntil(stream, () => stream.records.length > 0 || stream.headers, { what: 'the stream head' });

  a.child.kill('SIGTERM');
  const info = await closed(ws);
  assert.equal(info.code, 1001);
  await sseEnded(stream);
  const { code, signal } = await a.exited;
  assert.equal(code, 0, `exit ${code ?? signal}\n${a.logs}`);
});

test('a token that ends without a logout (expired, or its key removed) closes its connections within session_check_ms', async (t) => {
  const [node] = await liveCluster(t, 1, { SB_SESSION_CHECK_MS: '500' }, { name: 'tokencheck' });
  const { token, user } = await register(node);
  const other = await login(node, user.username);
  const mine = `user:${user.id}`;
  const ws = await openWs(node, { token });
  await subscribe(ws, mine);
  const stream = await sse(node, { channels: [mine], token });
  const kept = await openWs(node, { token: other });
  await subscribe(kept, mine);
  await waitFor(async () => (await userActors(node)) === 1, { what: 'the session actor' });

  // What an expiry looks like from here: the key is gone, no logout message.
  assert.equal(redis('DEL', `${node.prefix}s:${token}`), '1');
  const started = Date.now();
  const info = await closed(ws);
  assert.equal(info.code, 4001, JSON.stringify(info));
  await sseEnded(stream);
  // 500 ms between checks plus the check itself; generous for a loaded CI.
  assert.ok(Date.now() - started < 5000, `closed after ${Date.now() - started} ms`);
  assert.equal(kept.closeInfo, null, 'the user\'s other token is untouched');
});
