// platform_wallet — coins: the balance of a new account, purchases of coin
// packages, and gifts between users — their validation (400/401/404/422 that
// move nothing), Idempotency-Key replays (same gift, coins moved once, also
// when the two requests race on two nodes; 409 for the key with another
// body), atomicity under concurrent gifts across nodes (no balance below 0,
// the sum conserved), and the pushes that follow (balance.updated to both
// users with a `set` hint, notification.created to the recipient, seen on
// WebSocket and on the recipient's SSE stream).
// Never: waits for time; sets coins any other way than through the API or
// straight in the wallets table before the calls under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, register, sql } from './lib/harness.mjs';
import { liveCluster, openWs, subscribe, nextFrame, pushOn, sse, nextEvent, sseOn } from './lib/live.mjs';
import {
  assertError, coinPackage, coinsOf, isId, isRfc3339Utc, sendGift, setCoins, stamp, unknownId, balanceOf,
} from './lib/platform.mjs';

const GIFT_KEYS = ['balance', 'coins', 'from_user_id', 'id', 'to_user_id'];
const giftRows = (fromId) => Number(sql(`SELECT count(*) FROM gifts WHERE from_user_id = ${Number(fromId)}`));
const purchaseRows = (userId) => Number(sql(`SELECT count(*) FROM purchases WHERE user_id = ${Number(userId)}`));
// The wallet's version rises with every change (setCoins, straight in the
// table, leaves it): a client keeps the newest push.
const balanceHint = (coins, version) => ({ set: { key: ['me', 'balance'], data: { coins, version } } });

test('a new account has 0 coins; the balance needs a valid token', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'walnew' });
  const me = await register(a);
  for (const node of [a, b]) {
    const res = await api(node, 'GET', '/api/me/balance', { token: me.token });
    assert.equal(res.status, 200, `${node.name} GET /api/me/balance: ${res.text}`);
    assert.deepEqual(res.body, { coins: 0, version: 0 }, `${node.name}: a new account starts with 0 coins`);
  }
  assertError(await api(a, 'GET', '/api/me/balance'), 401, 'unauthorized', 'GET balance without a token');
  assertError(await api(a, 'GET', '/api/me/balance', { token: 'no-such-token' }), 401, 'unauthorized', 'GET balance with an unknown token');
});

test('a purchase adds the package\'s coins, answers the new balance and pushes balance.updated with a set hint', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'walbuy' });
  const pkg = coinPackage();
  const me = await register(a);
  const mine = `user:${me.user.id}`;
  const ws = await openWs(b, { token: me.token });
  await subscribe(ws, mine);

  const first = await api(a, 'POST', '/api/me/purchases', { token: me.token, body: { package_id: pkg.id } });
  assert.equal(first.status, 201, `POST /api/me/purchases: ${first.text}`);
  assert.deepEqual(first.body, { coins: pkg.coins, version: 1 }, 'the answer is the new balance and its version');
  const push1 = await nextFrame(ws, pushOn(mine, 'balance.updated'));
  assert.deepEqual(push1.data, { coins: pkg.coins, version: 1 }, `push data: ${JSON.stringify(push1)}`);
  assert.deepEqual(push1.hints, balanceHint(pkg.coins, 1), 'the hint sets ["me","balance"] to the new balance');

  const second = await api(b, 'POST', '/api/me/purchases', { token: me.token, body: { package_id: pkg.id } });
  assert.equal(second.status, 201, second.text);
  assert.deepEqual(second.body, { coins: 2 * pkg.coins, version: 2 }, 'old balance + package coins, the next version');
  const push2 = await nextFrame(ws, pushOn(mine, 'balance.updated'));
  assert.deepEqual(push2.data, { coins: 2 * pkg.coins, version: 2 });
  assert.deepEqual(push2.hints, balanceHint(2 * pkg.coins, 2));

  for (const node of [a, b]) assert.equal(await balanceOf(node, me.token), 2 * pkg.coins, `${node.name}: GET balance after two purchases`);
  assert.equal(coinsOf(me.user.id), 2 * pkg.coins, 'the wallet row');
  assert.equal(purchaseRows(me.user.id), 2, 'one purchases row per purchase');
});

test('a purchase of an unknown package is 404, a bad package_id 400, without a token 401 — none adds coins', async (t) => {
  const [a] = await liveCluster(t, 1, {}, { name: 'walbuybad' });
  const me = await register(a);
  const buy = (body, token = me.token) => api(a, 'POST', '/api/me/purchases', { token, body });
  assertError(await buy({ package_id: unknownId('coin_packages') }), 404, 'not_found', 'an unknown package');
  for (const [what, body] of [
    ['no package_id', {}],
    ['a string package_id', { package_id: String(coinPackage().id) }],
    ['a fractional package_id', { package_id: 1.5 }],
    ['a null package_id', { package_id: null }],
    ['a boolean package_id', { package_id: true }],
  ])
    assertError(await buy(body), 400, 'bad_request', `purchase with ${what}`, { field: 'package_id' });
  assertError(await buy({ package_id: coinPackage().id }, null), 401, 'unauthorized', 'a purchase without a token');
  assert.equal(coinsOf(me.user.id), 0, 'no coins were added');
  assert.equal(purchaseRows(me.user.id), 0, 'no purchase was recorded');
});

test('a gift moves coins and answers {id, from_user_id, to_user_id, coins, balance} with the sender\'s new balance', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'walgift' });
  const sender = await register(a);
  const recipient = await register(b);
  setCoins(sender.user.id, 100);

  const res = await sendGift(a, sender.token, recipient.user.id, 30, `k-${stamp()}`);
  assert.equal(res.status, 201, `POST /api/gifts: ${res.text}`);
  assert.deepEqual(Object.keys(res.body).sort(), GIFT_KEYS, `the gift's fields: ${res.text}`);
  assert.ok(isId(res.body.id), 'id is a positive integer');
  assert.deepEqual(
    { ...res.body, id: 0 },
    { id: 0, from_user_id: sender.user.id, to_user_id: recipient.user.id, coins: 30, balance: 70 },
    'balance is the sender\'s balance after the gift',
  );
  assert.equal(res.headers.get('idempotent-replayed'), null, 'a first request is not a replay');
  assert.equal(coinsOf(sender.user.id), 70);
  assert.equal(coinsOf(recipient.user.id), 30);
  assert.equal(await balanceOf(b, sender.token), 70, 'the sender\'s balance on the other node');
  assert.equal(await balanceOf(a, recipient.token), 30, 'the recipient\'s balance on the other node');

  // Without an Idempotency-Key every request is a gift of its own.
  const x = await sendGift(b, sender.token, recipient.user.id, 5);
  const y = await sendGift(b, sender.token, recipient.user.id, 5);
  assert.equal(x.status, 201, x.text);
  assert.equal(y.status, 201, y.text);
  assert.notEqual(x.body.id, y.body.id, 'two gifts without a key are two gifts');
  assert.equal(y.body.balance, 60);
  assert.equal(coinsOf(recipient.user.id), 40);

  // The whole balance may be given; coins up to 1000000 in one gift.
  setCoins(sender.user.id, 1000000);
  const all = await sendGift(a, sender.token, recipient.user.id, 1000000);
  assert.equal(all.status, 201, `a gift of 1000000 coins: ${all.text}`);
  assert.equal(all.body.balance, 0);
  assert.equal(coinsOf(recipient.user.id), 1000040);
});

test('bad gifts are refused and move nothing: 400 for bad coins or recipient, 404 unknown recipient, 422 too few coins, 401 without token', async (t) => {
  const [a] = await liveCluster(t, 1, {}, { name: 'walgiftbad' });
  const sender = await register(a);
  const recipient = await register(a);
  setCoins(sender.user.id, 50);
  const to = recipient.user.id;
  const post = (body, { token = sender.token, headers } = {}) => api(a, 'POST', '/api/gifts', { token, body, headers });

  for (const [what, coins] of [['0', 0], ['-5', -5], ['1.5', 1.5], ['"10"', '10'], ['1000001', 1000001], ['null', null], ['true', true]])
    assertError(await post({ to_user_id: to, coins }), 400, 'bad_request', `coins ${what}`, { field: 'coins' });
  assertError(await post({ to_user_id: to }), 400, 'bad_request', 'no coins', { field: 'coins' });
  for (const [what, id] of [['a string', String(to)], ['a fraction', 1.5], ['null', null], ['0', 0], ['negative', -to]])
    assertError(await post({ to_user_id: id, coins: 1 }), 400, 'bad_request', `to_user_id ${what}`, { field: 'to_user_id' });
  assertError(await post({ coins: 1 }), 400, 'bad_request', 'no to_user_id', { field: 'to_user_id' });
  assertError(await post({ to_user_id: sender.user.id, coins: 1 }), 400, 'bad_request', 'a gift to oneself');
  assertError(
    await post({ to_user_id: to, coins: 1 }, { headers: { 'Idempotency-Key': 'k'.repeat(201) } }),
    400, 'bad_request', 'an Idempotency-Key of 201 characters',
  );
  assertError(await post({ to_user_id: unknownId('users'), coins: 1 }), 404, 'not_found', 'an unknown recipient');
  assertError(await post({ to_user_id: to, coins: 51 }), 422, 'insufficient_funds', '51 coins from a balance of 50');
  assertError(await post({ to_user_id: to, coins: 1000000 }), 422, 'insufficient_funds', '1000000 coins from a balance of 50');
  assertError(await post({ to_user_id: to, coins: 1 }, { token: null }), 401, 'unauthorized', 'a gift without a token');
  assertError(await post({ to_user_id: to, coins: 1 }, { token: 'bogus' }), 401, 'unauthorized', 'a gift with an unknown token');

  assert.equal(coinsOf(sender.user.id), 50, 'the sender kept every coin');
  assert.equal(coinsOf(recipient.user.id), 0, 'the recipient got nothing');
  assert.equal(giftRows(sender.user.id), 0, 'no gift row was stored');

  // A key of 200 characters is fine.
  const ok = await post({ to_user_id: to, coins: 50 }, { headers: { 'Idempotency-Key': `${stamp()}-`.padEnd(200, 'k') } });
  assert.equal(ok.status, 201, `an Idempotency-Key of 200 characters: ${ok.text}`);
  assert.equal(ok.body.balance, 0);
});

test('a repeated Idempotency-Key returns the same gift with Idempotent-Replayed: true and moves coins once; another body is 409', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'walidem' });
  const sender = await register(a);
  const recipient = await register(a);
  const other = await register(a);
  setCoins(sender.user.id, 100);
  const key = `gift-${stamp()}`;

  const first = await sendGift(a, sender.token, recipient.user.id, 25, key);
  assert.equal(first.status, 201, first.text);
  const again = await sendGift(b, sender.token, recipient.user.id, 25, key);
  assert.equal(again.status, 201, `the replay on another node: ${again.text}`);
  assert.equal(again.headers.get('idempotent-replayed'), 'true', 'the replay says Idempotent-Replayed: true');
  assert.deepEqual(
    { ...again.body, balance: undefined },
    { ...first.body, balance: undefined },
    'the replay is the same gift (same id, users, coins)',
  );
  assert.equal(coinsOf(sender.user.id), 75, 'coins moved once');
  assert.equal(coinsOf(recipient.user.id), 25);

  assertError(await sendGift(a, sender.token, other.user.id, 25, key), 409, 'conflict', 'the same key for another recipient');
  assertError(await sendGift(b, sender.token, recipient.user.id, 26, key), 409, 'conflict', 'the same key for another amount');
  assert.equal(coinsOf(sender.user.id), 75, 'a conflicting key moves nothing');
  assert.equal(coinsOf(other.user.id), 0);
  assert.equal(Number(sql(`SELECT count(*) FROM gifts WHERE idempotency_key = '${key}'`)), 1, 'one gift row for the key');

  // Keys belong to their sender: another sender's same key is a gift of its own.
  setCoins(other.user.id, 10);
  const theirs = await sendGift(b, other.token, recipient.user.id, 10, key);
  assert.equal(theirs.status, 201, theirs.text);
  assert.notEqual(theirs.body.id, first.body.id, 'another sender, same key: another gift');
  assert.equal(theirs.headers.get('idempotent-replayed'), null);
  assert.equal(coinsOf(recipient.user.id), 35);
});

test('the same gift sent at once to two nodes with one Idempotency-Key is made once; both answer it', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'walrace' });
  const sender = await register(a);
  const recipient = await register(b);
  const rounds = 5;
  setCoins(sender.user.id, 100);
  for (let round = 1; round <= rounds; round++) {
    const key = `race-${round}-${stamp()}`;
    const [x, y] = await Promise.all([
      sendGift(a, sender.token, recipient.user.id, 7, key),
      sendGift(b, sender.token, recipient.user.id, 7, key),
    ]);
    const what = `round ${round}: ${x.status} ${x.text} / ${y.status} ${y.text}`;
    assert.equal(x.status, 201, what);
    assert.equal(y.status, 201, what);
    assert.equal(x.body.id, y.body.id, `both answer the same gift id (${what})`);
    const replayed = [x, y].filter((r) => r.headers.get('idempotent-replayed') === 'true').length;
    assert.equal(replayed, 1, `exactly one of the two is a replay (${what})`);
    assert.equal(Number(sql(`SELECT count(*) FROM gifts WHERE idempotency_key = '${key}'`)), 1, `one gift row (${what})`);
    assert.equal(coinsOf(sender.user.id), 100 - 7 * round, `the sender lost 7 coins once (${what})`);
  }
  assert.equal(coinsOf(recipient.user.id), 7 * rounds);
});

test('20 concurrent gifts of 10 from 100 coins across two nodes: exactly 10 pass, 10 get 422, nothing negative', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'walconc' });
  const sender = await register(a);
  const recipient = await register(b);
  setCoins(sender.user.id, 100);
  setCoins(recipient.user.id, 5);

  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) => sendGift(i % 2 ? b : a, sender.token, recipient.user.id, 10, `c${i}-${stamp()}`)),
  );
  const statuses = answers.map((r) => r.status);
  const ok = answers.filter((r) => r.status === 201);
  const refused = answers.filter((r) => r.status === 422);
  assert.equal(ok.length, 10, `exactly 10 gifts pass: ${statuses}`);
  assert.equal(refused.length, 10, `the other 10 are 422: ${statuses}`);
  for (const r of refused) assert.equal(r.body?.error?.code, 'insufficient_funds', r.text);
  assert.deepEqual(
    ok.map((r) => r.body.balance).sort((x, y) => x - y),
    [0, 10, 20, 30, 40, 50, 60, 70, 80, 90],
    'each passing gift answers a distinct balance after it (they were applied one at a time)',
  );
  assert.equal(coinsOf(sender.user.id), 0, 'the sender ends at 0');
  assert.equal(coinsOf(recipient.user.id), 105, 'the recipient got +100');
  assert.equal(giftRows(sender.user.id), 10, 'ten gift rows');
  assert.equal(await balanceOf(b, sender.token), 0);
});

test('gifts crossing between two users at once on two nodes conserve the sum and never go negative', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'walcross' });
  const u = await register(a);
  const v = await register(b);
  setCoins(u.user.id, 100);
  setCoins(v.user.id, 100);
  const calls = [];
  for (let i = 0; i < 15; i++) {
    calls.push(sendGift(i % 2 ? a : b, u.token, v.user.id, 20, `uv${i}-${stamp()}`).then((r) => ['uv', r]));
    calls.push(sendGift(i % 2 ? b : a, v.token, u.user.id, 20, `vu${i}-${stamp()}`).then((r) => ['vu', r]));
  }
  const answers = await Promise.all(calls);
  const unexpected = answers.filter(([, r]) => r.status !== 201 && r.status !== 422);
  assert.deepEqual(unexpected.map(([d, r]) => `${d} ${r.status} ${r.text}`), [], 'every gift is 201 or 422 (no deadlock, no 5xx)');
  const passed = (dir) => answers.filter(([d, r]) => d === dir && r.status === 201).length;
  const cu = coinsOf(u.user.id);
  const cv = coinsOf(v.user.id);
  assert.equal(cu + cv, 200, `the sum is conserved (${cu} + ${cv})`);
  assert.ok(cu >= 0 && cv >= 0, `no balance below 0 (${cu}, ${cv})`);
  assert.equal(cu, 100 - 20 * passed('uv') + 20 * passed('vu'), 'u\'s balance is what the 201s say');
  assert.equal(giftRows(u.user.id), passed('uv'));
  assert.equal(giftRows(v.user.id), passed('vu'));
});

test('after a gift both users get balance.updated and the recipient\'s SSE stream gets notification.created', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'walpush' });
  const sender = await register(a);
  const recipient = await register(b);
  setCoins(sender.user.id, 100);
  setCoins(recipient.user.id, 1);
  const senderChannel = `user:${sender.user.id}`;
  const recipientChannel = `user:${recipient.user.id}`;
  const senderWs = await openWs(b, { token: sender.token });
  await subscribe(senderWs, 'user:me');
  const recipientWs = await openWs(a, { token: recipient.token });
  await subscribe(recipientWs, recipientChannel);
  const stream = await sse(b, { channels: [recipientChannel], token: recipient.token });

  const res = await sendGift(a, sender.token, recipient.user.id, 40, `p-${stamp()}`);
  assert.equal(res.status, 201, res.text);
  const gift = res.body;

  const senderPush = await nextFrame(senderWs, pushOn(senderChannel, 'balance.updated'));
  assert.deepEqual(senderPush.data, { coins: 60, version: 1 }, `the sender's push: ${JSON.stringify(senderPush)}`);
  assert.deepEqual(senderPush.hints, balanceHint(60, 1));

  const recipientPush = await nextFrame(recipientWs, pushOn(recipientChannel, 'balance.updated'));
  assert.deepEqual(recipientPush.data, { coins: 41, version: 1 }, `the recipient's push: ${JSON.stringify(recipientPush)}`);
  assert.deepEqual(recipientPush.hints, balanceHint(41, 1));

  const note = await nextFrame(recipientWs, pushOn(recipientChannel, 'notification.created'));
  const n = note.data;
  assert.ok(isId(n?.id), `notification: ${JSON.stringify(note)}`);
  assert.equal(n.kind, 'gift_received');
  assert.equal(n.read, false);
  assert.ok(isRfc3339Utc(n.created_at), `created_at: ${n.created_at}`);
  for (const [k, v] of Object.entries({ gift_id: gift.id, from_user_id: sender.user.id, coins: 40 }))
    assert.equal(n.data?.[k], v, `notification data.${k}: ${JSON.stringify(n.data)}`);
  assert.deepEqual(note.hints, { invalidate: [['me', 'notifications']] });

  // The same two pushes on the recipient's SSE stream, on the other node.
  const sseBalance = await nextEvent(stream, (r) => sseOn(recipientChannel)(r) && r.json.event === 'balance.updated');
  assert.equal(sseBalance.event, 'balance.updated', 'the SSE event name is the push event');
  assert.deepEqual(sseBalance.json.data, { coins: 41, version: 1 });
  assert.deepEqual(sseBalance.json.hints, balanceHint(41, 1));
  const sseNote = await nextEvent(stream, (r) => sseOn(recipientChannel)(r) && r.json.event === 'notification.created');
  assert.deepEqual(sseNote.json.data, n, 'the SSE notification is the WS one');
});
