// badinput_auth — the bad-input suite, credentials: tokens that are missing,
// empty, of the wrong shape, forged (the right shape, never issued),
// expired (their session key gone from Redis) or of a deleted user, on
// every authenticated HTTP endpoint (401 unauthorized), on WebSocket (the
// upgrade is accepted, then close 4001) and on SSE (401 before any stream);
// the Bearer scheme in any letter case; logout with bad tokens; the server
// and operator keys (X-Api-Key, X-Admin-Key) missing, empty or wrong. Each
// refusal changes nothing stored (the users' rows in PostgreSQL and the
// cluster's keys in Redis, compared before and after) and leaves the node
// serving everyone else; every node must exit 0 afterwards (liveCluster).
// Never: sleeps for time — expiry is simulated by deleting the session key,
// and every wait is for an answer, a frame or a close, with a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ADMIN_KEY, API_KEY, api, redis, register, sql, waitFor } from './lib/harness.mjs';
import { liveCluster, openWs, request, subscribe, closed, openSse, uniqueId } from './lib/live.mjs';
import { assertError, coinPackage, newBook, newChapter } from './lib/platform.mjs';
import { assertServing, assertUnchanged, rawApi, snapshot } from './lib/badinput.mjs';

const NO_TOKEN_LIMIT = { SB_REQUESTS_PER_TOKEN_PER_S: '0' };
const forged = () => randomBytes(16).toString('hex');

/**
 * Sets up an author with a book, a chapter, coins and a notification, and
 * another user; returns them and the authenticated calls to try, each with a
 * body that is valid (so that only the credentials can be what is wrong).
 */
async function world(node) {
  const me = await register(node);
  const you = await register(node);
  const book = await newBook(node, me.token);
  const chapter = await newChapter(node, me.token, book.id);
  sql(`UPDATE wallets SET coins = 100 WHERE user_id IN (${me.user.id}, ${you.user.id})`);
  const gift = await api(node, 'POST', '/api/gifts', { token: you.token, body: { to_user_id: me.user.id, coins: 1 } });
  assert.equal(gift.status, 201, gift.text);
  const notification = Number(sql(`SELECT max(id) FROM notifications WHERE user_id = ${me.user.id}`));
  const calls = [
    ['GET', '/api/me/balance'],
    ['GET', '/api/me/notifications'],
    ['POST', `/api/me/notifications/${notification}/read`],
    ['POST', '/api/books', { title: 'by a bad token' }],
    ['PATCH', `/api/books/${book.id}`, { title: 'changed by a bad token' }],
    ['POST', `/api/books/${book.id}/chapters`, { title: 'by a bad token', body: 'x' }],
    ['PATCH', `/api/chapters/${chapter.id}`, { body: 'changed by a bad token' }],
    ['PATCH', '/api/users/me', { bio: 'changed by a bad token' }],
    ['POST', `/api/chapters/${chapter.id}/comments`, { body: 'by a bad token' }],
    ['POST', '/api/me/purchases', { package_id: coinPackage().id }],
    ['POST', '/api/gifts', { to_user_id: you.user.id, coins: 5 }],
    ['POST', `/api/books/${book.id}/follow`],
    ['DELETE', `/api/books/${book.id}/follow`],
    ['GET', `/api/channels/collab:chapter:${chapter.id}/presence`],
  ];
  return { me, you, book, chapter, calls, users: [me.user.id, you.user.id] };
}

/** Runs every call with `headers` (and `query`); returns the ones not answered 401 unauthorized. */
async function notRefused(node, calls, { headers = {}, query = '' } = {}) {
  const wrong = [];
  for (const [method, path, body] of calls) {
    const res = await rawApi(node, method, path + query, {
      headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status !== 401 || res.body?.error?.code !== 'unauthorized' || !res.body.error.message)
      wrong.push(`${method} ${path}${query}: HTTP ${res.status} ${res.text.slice(0, 160)}`);
  }
  return wrong;
}

test('missing, empty, malformed and forged tokens are 401 on every authenticated endpoint and change nothing', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'aubad' });
  const { me, calls, users } = await world(node);
  const before = snapshot(node.prefix, users);
  const token = me.token;
  const variants = {
    'no Authorization header': {},
    'an empty Authorization header': { headers: { Authorization: '' } },
    '"Bearer" alone': { headers: { Authorization: 'Bearer' } },
    '"Bearer " and nothing': { headers: { Authorization: 'Bearer ' } },
    'Bearer and spaces': { headers: { Authorization: 'Bearer     ' } },
    'Basic credentials': { headers: { Authorization: `Basic ${Buffer.from(`${me.user.username}:password123`).toString('base64')}` } },
    'another scheme with the right token': { headers: { Authorization: `Token ${token}` } },
    'the right token without a scheme': { headers: { Authorization: token } },
    'one character too many': { headers: { Authorization: `Bearer ${token}0` } },
    'one character too few': { headers: { Authorization: `Bearer ${token.slice(1)}` } },
    'the right token in upper case': { headers: { Authorization: `Bearer ${token.toUpperCase()}` } },
    'the right token in quotes': { headers: { Authorization: `Bearer "${token}"` } },
    'the right token twice': { headers: { Authorization: `Bearer ${token} ${token}` } },
    'a forged token of the right shape': { headers: { Authorization: `Bearer ${forged()}` } },
    'all zeros': { headers: { Authorization: `Bearer ${'0'.repeat(32)}` } },
    'not hex': { headers: { Authorization: `Bearer ${'g'.repeat(32)}` } },
    'SQL in the token': { headers: { Authorization: "Bearer ' OR '1'='1' --" } },
    'a Redis key pattern': { headers: { Authorization: 'Bearer *' } },
    'a 4000-byte token': { headers: { Authorization: `Bearer ${'a'.repeat(4000)}` } },
    'a forged access_token in the query': { query: `?access_token=${forged()}` },
    'an empty access_token in the query': { query: '?access_token=' },
    'a bad header and the right token in the query': { headers: { Authorization: 'Bearer nope' }, query: `?access_token=${token}` },
  };
  const wrong = [];
  for (const [what, options] of Object.entries(variants))
    for (const line of await notRefused(node, calls, options)) wrong.push(`${what}: ${line}`);
  assert.deepEqual(wrong, [], 'every call with a bad token is 401 unauthorized');
  assertUnchanged(before, node.prefix, users, 'calls with bad tokens');
  // The real token still works, with the scheme in any case.
  for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
    const res = await rawApi(node, 'GET', '/api/me/balance', { headers: { Authorization: `${scheme} ${token}` } });
    assert.equal(res.status, 200, `${scheme}: ${res.text}`);
  }
  await assertServing(node);
});

test('HTTP, WebSocket and SSE read a credential by one rule: a bad Authorization header is refused even beside a good access_token', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'auprec' });
  const me = await register(node);
  for (const header of [`Basic ${me.token}`, 'Bearer nope', '']) {
    const what = `Authorization ${JSON.stringify(header)} and ?access_token=<the right token>`;
    assertError(
      await rawApi(node, 'GET', `/api/me/balance?access_token=${me.token}`, { headers: { Authorization: header } }),
      401, 'unauthorized', `HTTP, ${what}`,
    );
    const ws = await openWs(node, { token: me.token, via: 'query', headers: { Authorization: header } });
    assert.equal((await closed(ws)).code, 4001, `WebSocket, ${what}`);
    const sse = await openSse(node, { channels: ['user:me'], token: me.token, via: 'query', headers: { Authorization: header } });
    assertError(sse, 401, 'unauthorized', `SSE, ${what}`);
  }
  // Two access_tokens (even the same one twice) are refused on every
  // transport alike, by the route table's rule: a parameter given twice is
  // 400 bad_request, the WebSocket handshake included.
  const twice = `access_token=${me.token}&access_token=${me.token}`;
  assertError(await rawApi(node, 'GET', `/api/me/balance?${twice}`), 400, 'bad_request', 'HTTP: access_token twice');
  await assert.rejects(openWs(node, { path: `/ws?${twice}` }), /upgrade refused with HTTP 400 .*"bad_request"/, 'WebSocket: access_token twice');
  const sse = await openSse(node, { channels: ['user:me'], token: me.token, via: 'query', query: { access_token: me.token } });
  assertError(sse, 400, 'bad_request', 'SSE: access_token twice');
  await assertServing(node);
});

test('logout with a malformed token is 401, with a forged one 204 that ends nobody\'s session', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'aulogout' });
  const me = await register(node);
  const before = snapshot(node.prefix, [me.user.id]);
  for (const auth of [undefined, '', 'Bearer', 'Bearer ', `Bearer ${me.token}x`, 'Bearer *', `Basic ${me.token}`])
    assertError(await rawApi(node, 'POST', '/api/auth/logout', { headers: auth === undefined ? {} : { Authorization: auth } }), 401, 'unauthorized', `logout with ${JSON.stringify(auth)}`);
  const res = await rawApi(node, 'POST', '/api/auth/logout', { headers: { Authorization: `Bearer ${forged()}` } });
  assert.equal(res.status, 204, `logout of an unknown token: ${res.text}`);
  assertUnchanged(before, node.prefix, [me.user.id], 'logouts with bad tokens');
  assert.equal((await api(node, 'GET', '/api/me/balance', { token: me.token })).status, 200, 'the real session lives on');
});

test('an expired session (its key gone from Redis) is 401 on HTTP, 4001 on WebSocket, 401 on SSE, and changes nothing', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'auexpired' });
  const { me, calls, users } = await world(node);
  const key = `${node.prefix}s:${me.token}`;
  assert.equal(redis('GET', key), String(me.user.id), 'the session key is where the node keeps it');
  redis('DEL', key);
  const before = snapshot(node.prefix, users);
  assert.deepEqual(await notRefused(node, calls, { headers: { Authorization: `Bearer ${me.token}` } }), [], 'HTTP with an expired token');
  assert.deepEqual(await notRefused(node, calls.slice(0, 3), { query: `?access_token=${me.token}` }), [], 'HTTP with an expired token in the query');
  for (const via of ['header', 'query']) {
    const ws = await openWs(node, { token: me.token, via });
    assert.equal((await closed(ws)).code, 4001, `WebSocket with an expired token (${via})`);
  }
  for (const via of ['header', 'query']) {
    const res = await openSse(node, { channels: ['user:me'], token: me.token, via });
    assertError(res, 401, 'unauthorized', `SSE with an expired token (${via})`);
  }
  assertUnchanged(before, node.prefix, users, 'calls with an expired token');
  await assertServing(node);
});

/** Calls with a deleted user's token, on HTTP, WebSocket and SSE: what was not refused. */
async function deletedUserNotRefused(node, me, calls) {
  const wrong = await notRefused(node, calls, { headers: { Authorization: `Bearer ${me.token}` } });
  // WebSocket: closed 4001 — not a connection that may read the user's channel.
  const ws = await openWs(node, { token: me.token });
  // Either the close comes (and the request fails with it) or the request is answered.
  const reply = await request(ws, { op: 'subscribe', channel: 'user:me' }).catch(() => null);
  if (reply) wrong.push(`WebSocket: expected close 4001, but subscribe user:me was answered ${JSON.stringify(reply)}`);
  else if (ws.closeInfo?.code !== 4001) wrong.push(`WebSocket: expected close 4001, got ${JSON.stringify(ws.closeInfo)}`);
  ws.terminate();
  const stream = await openSse(node, { channels: ['user:me'], token: me.token });
  if (stream.status !== 401) wrong.push(`SSE user:me: HTTP ${stream.status} ${stream.text ?? '(a stream started)'}`);
  if (stream.ok) await stream.close();
  return wrong;
}

test('a deleted account\'s tokens stop at once: 401 on HTTP, 4001 on WebSocket, 401 on SSE; its live connections close; nothing changes', async (t) => {
  const [node] = await liveCluster(t, 1, NO_TOKEN_LIMIT, { name: 'audeleted' });
  const { me, calls, users } = await world(node);
  const open = await openWs(node, { token: me.token });
  assert.equal((await api(node, 'DELETE', '/api/users/me', { token: me.token })).status, 204);
  assert.equal((await closed(open)).code, 4001, 'the account\'s open connection is closed');
  assert.equal(sql(`SELECT deleted_at IS NOT NULL FROM users WHERE id = ${me.user.id}`).trim(), 't');
  const before = snapshot(node.prefix, users);
  const wrong = await deletedUserNotRefused(node, me, calls);
  assert.deepEqual(wrong, [], 'a deleted user\'s token is refused everywhere');
  assertUnchanged(before, node.prefix, users, 'calls with a deleted user\'s token');
  await assertServing(node);
});

test('an account deleted in the database directly stops being served within cache_ttl_s', async (t) => {
  // Here nothing ends the sessions: the account check (through the user
  // cache) refuses the token once the cached user expires.
  const [node] = await liveCluster(t, 1, { ...NO_TOKEN_LIMIT, SB_CACHE_TTL_S: '1', SB_CACHE_STALE_S: '0' }, { name: 'audeletedsql' });
  const { me, calls, users } = await world(node);
  sql(`UPDATE users SET deleted_at = now() WHERE id = ${me.user.id}`);
  await waitFor(async () => (await api(node, 'GET', '/api/me/balance', { token: me.token })).status === 401, {
    what: 'the deleted account to be refused',
  });
  const before = snapshot(node.prefix, users);
  const wrong = await deletedUserNotRefused(node, me, calls);
  assert.deepEqual(wrong, [], 'a deleted user\'s token is refused everywhere');
  assertUnchanged(before, node.prefix, users, 'calls with a deleted user\'s token');
});

test('WebSocket: forged and malformed tokens are closed with 4001 (header or query); a bad header is not rescued by the query', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'auws' });
  const me = await register(node);
  const before = snapshot(node.prefix, [me.user.id]);
  for (const [what, options] of [
    ['a forged token (header)', { token: forged() }],
    ['a forged token (query)', { token: forged(), via: 'query' }],
    ['a token of the wrong shape', { token: 'abc' }],
    ['the right token in upper case', { token: me.token.toUpperCase() }],
    ['the right token plus a character', { token: `${me.token}0`, via: 'query' }],
    ['SQL in the token', { token: "' OR 1=1 --", via: 'query' }],
    ['a Redis key pattern', { token: '*' }],
    ['a bad header with the right token in the query', { token: 'nope', path: `/ws?access_token=${me.token}` }],
  ]) {
    const ws = await openWs(node, options);
    const close = await closed(ws);
    assert.equal(close.code, 4001, `${what}: ${JSON.stringify(close)}`);
    assert.deepEqual(ws.frames, [], `${what}: nothing is answered`);
  }
  assertUnchanged(before, node.prefix, [me.user.id], 'WebSocket upgrades with bad tokens');
  // Case does not matter for the scheme.
  const ws = await openWs(node, { headers: { Authorization: `BEARER ${me.token}` } });
  assert.equal((await subscribe(ws, 'user:me')).channel, `user:${me.user.id}`);
  await assertServing(node);
});

test('SSE: forged and malformed tokens are 401 (header or query) and no stream starts', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'ausse' });
  const me = await register(node);
  const before = snapshot(node.prefix, [me.user.id]);
  for (const [what, options] of [
    ['a forged token', { token: forged() }],
    ['a forged token in the query', { token: forged(), via: 'query' }],
    ['a token of the wrong shape', { token: 'abc' }],
    ['the right token in upper case', { token: me.token.toUpperCase(), via: 'query' }],
    ['SQL in the token', { token: "' OR 1=1 --" }],
  ])
    for (const channels of [[`books:${uniqueId()}`], ['user:me']]) {
      const res = await openSse(node, { channels, ...options });
      assertError(res, 401, 'unauthorized', `SSE ${channels} with ${what}`);
    }
  assertUnchanged(before, node.prefix, [me.user.id], 'SSE requests with bad tokens');
  await assertServing(node);
});

test('WebSocket and SSE: an empty token is refused like any bad one (4001 / 401), as on HTTP', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'auempty' });
  const wrong = [];
  for (const [what, options] of [
    ['"Authorization: Bearer"', { headers: { Authorization: 'Bearer' } }],
    ['"Authorization: Bearer " and spaces', { headers: { Authorization: 'Bearer    ' } }],
    ['an empty access_token', { path: '/ws?access_token=' }],
  ]) {
    const ws = await openWs(node, options);
    // Either the close comes (and the ping fails with it) or the ping is answered.
    const reply = await request(ws, { op: 'ping' }).catch(() => null);
    if (reply) wrong.push(`WebSocket with ${what}: served anonymously: ${JSON.stringify(reply)}`);
    else if (ws.closeInfo?.code !== 4001) wrong.push(`WebSocket with ${what}: closed ${JSON.stringify(ws.closeInfo)}`);
    ws.terminate();
  }
  for (const [what, options] of [
    ['"Authorization: Bearer"', { headers: { Authorization: 'Bearer' } }],
    ['"Authorization: Bearer " and spaces', { headers: { Authorization: 'Bearer    ' } }],
    ['an empty access_token', { query: { access_token: '' } }],
  ]) {
    const res = await openSse(node, { channels: [`books:${uniqueId()}`], ...options });
    if (res.status !== 401) wrong.push(`SSE with ${what}: HTTP ${res.status}`);
    if (res.ok) await res.close();
  }
  assert.deepEqual(wrong, [], 'an empty token is not an anonymous connection');
});

test('SSE: the Bearer scheme is case-insensitive, as on HTTP and WebSocket', async (t) => {
  // RFC 9110 §11.1: the auth scheme is a case-insensitive token.
  const [node] = await liveCluster(t, 1, {}, { name: 'ausseci' });
  const me = await register(node);
  for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
    const ok = await openSse(node, { channels: ['user:me'], headers: { Authorization: `${scheme} ${me.token}` } });
    assert.equal(ok.status, 200, `"${scheme} <valid token>" signs the stream in: HTTP ${ok.status} ${ok.text ?? ''}`);
    if (ok.ok) await ok.close();
    const bad = await openSse(node, { channels: [`books:${uniqueId()}`], headers: { Authorization: `${scheme} ${forged()}` } });
    assert.equal(bad.status, 401, `"${scheme} <forged token>" is refused, not served anonymously: HTTP ${bad.status}`);
    if (bad.ok) await bad.close();
  }
});

test('the server API and operator endpoints refuse a missing, empty or wrong key with 401, publishing nothing', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'aukeys' });
  const before = snapshot(node.prefix, []);
  const channel = `books:${uniqueId()}`;
  // (Whitespace around a header value is not part of it: "key " is "key".)
  for (const key of [undefined, '', ' ', API_KEY.toUpperCase(), `${API_KEY}x`, `${API_KEY}\u00a0`, API_KEY.slice(1), ADMIN_KEY, "' OR 1=1 --"]) {
    const res = await api(node, 'POST', '/api/publish', {
      headers: key === undefined ? {} : { 'X-Api-Key': key },
      body: { channel, event: 'forged', data: { x: 1 } },
    });
    assertError(res, 401, 'unauthorized', `POST /api/publish with X-Api-Key ${JSON.stringify(key)}`);
  }
  for (const path of ['/stats', '/stats/cluster', '/admin'])
    for (const key of [undefined, '', ADMIN_KEY.toUpperCase(), `${ADMIN_KEY}x`, API_KEY]) {
      const res = await api(node, 'GET', path, { headers: key === undefined ? {} : { 'X-Admin-Key': key } });
      assert.equal(res.status, 401, `GET ${path} with X-Admin-Key ${JSON.stringify(key)}: ${res.status}`);
    }
  assertUnchanged(before, node.prefix, [], 'calls with bad keys');
  await assertServing(node);
});
