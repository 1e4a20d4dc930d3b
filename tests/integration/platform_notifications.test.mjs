// platform_notifications — a user's notifications (made here by gifts to
// them): the list newest first with its unread count and limit (1..100,
// 400 otherwise), the notification.created push being the listed object,
// marking one read (204, idempotent, the notification.read push with the
// new unread count, 404 for an id that is not the caller's, which changes
// nothing), more notifications than the Redis list keeps, and the fall back
// to PostgreSQL once the user's Redis keys are gone; a feed change that
// failed is repaired (the feed dropped and rebuilt), and every feed is
// rebuilt within notification_feed_ttl_s whatever happened.
// Never: waits for time; assumes Redis key names (the user's keys are found
// under the cluster's prefix by the user id in their name), but for the two
// repair tests, which break a feed's keys (docs/operations.md) on purpose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, redis, register, sql, stats, waitFor } from './lib/harness.mjs';
import { liveCluster, openWs, subscribe, nextFrame, pushOn } from './lib/live.mjs';
import {
  assertError, isId, isRfc3339Utc, notificationsOf, sendGift, setCoins, stamp, unknownId, userRedisKeys,
} from './lib/platform.mjs';

const NOTIFICATION_KEYS = ['created_at', 'data', 'id', 'kind', 'read'];

/** Sends `n` gifts of 1 coin (1, 2, ... as Idempotency-Key suffixes) from a new user to `recipient`; returns the gifts. */
async function giftsTo(node, recipient, n) {
  const sender = await register(node);
  setCoins(sender.user.id, n);
  const gifts = [];
  const key = stamp();
  for (let i = 1; i <= n; i++) {
    const res = await sendGift(node, sender.token, recipient.user.id, 1, `${key}-${i}`);
    if (res.status !== 201) throw new Error(`gift ${i}: HTTP ${res.status} ${res.text}`);
    gifts.push(res.body);
  }
  return { sender, gifts };
}

const readPath = (id) => `/api/me/notifications/${id}/read`;

test('notifications are listed newest first with the unread count; limit is 1..100', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'ntflist' });
  const me = await register(b);
  const { sender, gifts } = await giftsTo(a, me, 3);

  for (const node of [a, b]) {
    const list = await notificationsOf(node, me.token);
    const what = `${node.name}: ${JSON.stringify(list).slice(0, 600)}`;
    assert.deepEqual(Object.keys(list).sort(), ['items', 'unread'], what);
    assert.equal(list.items.length, 3, what);
    assert.equal(list.unread, 3, what);
    const ids = list.items.map((n) => n.id);
    assert.deepEqual(ids, [...ids].sort((x, y) => y - x), `newest first (id descending): ${what}`);
    assert.deepEqual(list.items.map((n) => n.data.gift_id), gifts.map((g) => g.id).reverse(), `the gifts, newest first: ${what}`);
    for (const n of list.items) {
      assert.deepEqual(Object.keys(n).sort(), NOTIFICATION_KEYS, `a notification has exactly ${NOTIFICATION_KEYS}: ${JSON.stringify(n)}`);
      assert.ok(isId(n.id), JSON.stringify(n));
      assert.equal(n.kind, 'gift_received');
      assert.equal(n.read, false);
      assert.ok(isRfc3339Utc(n.created_at), `created_at ${n.created_at}`);
      assert.equal(n.data.from_user_id, sender.user.id);
      assert.equal(n.data.coins, 1);
    }
  }

  const two = await notificationsOf(a, me.token, '?limit=2');
  assert.equal(two.items.length, 2, 'limit=2');
  assert.equal(two.unread, 3, 'unread counts every unread notification, not just the page');
  assert.equal((await notificationsOf(a, me.token, '?limit=100')).items.length, 3, 'limit=100 is allowed');
  for (const limit of ['0', '101', '-1', 'abc', '2.5'])
    assertError(await api(a, 'GET', `/api/me/notifications?limit=${limit}`, { token: me.token }), 400, 'bad_request', `limit=${limit}`, { field: 'limit' });
  assertError(await api(a, 'GET', '/api/me/notifications'), 401, 'unauthorized', 'the list without a token');
  assert.deepEqual(await notificationsOf(a, sender.token), { items: [], unread: 0 }, 'the sender has none');
});

test('notification.created pushes the notification exactly as the list shows it', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'ntfpush' });
  const me = await register(a);
  const mine = `user:${me.user.id}`;
  const ws = await openWs(b, { token: me.token });
  await subscribe(ws, mine);
  const { gifts } = await giftsTo(a, me, 1);

  const push = await nextFrame(ws, pushOn(mine, 'notification.created'));
  assert.deepEqual(push.hints, { invalidate: [['me', 'notifications']] }, `hints: ${JSON.stringify(push)}`);
  const [listed] = (await notificationsOf(b, me.token)).items;
  assert.deepEqual(push.data, listed, 'the pushed notification is the listed one');
  assert.equal(push.data.data.gift_id, gifts[0].id);
});

test('marking a notification read is 204, lowers unread once, pushes notification.read; repeating changes nothing', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'ntfread' });
  const me = await register(a);
  const mine = `user:${me.user.id}`;
  await giftsTo(a, me, 3);
  const before = await notificationsOf(a, me.token);
  assert.equal(before.unread, 3, JSON.stringify(before));
  const target = before.items[1];
  const ws = await openWs(b, { token: me.token });
  await subscribe(ws, mine);

  const res = await api(b, 'POST', readPath(target.id), { token: me.token });
  assert.equal(res.status, 204, `POST read: ${res.text}`);
  assert.equal(res.text, '', '204 has no body');
  const push = await nextFrame(ws, pushOn(mine, 'notification.read'));
  assert.deepEqual(push.data, { id: target.id, unread: 2 }, `the push: ${JSON.stringify(push)}`);

  for (const node of [a, b]) {
    const after = await notificationsOf(node, me.token);
    assert.equal(after.unread, 2, `${node.name}: unread went down by one`);
    assert.deepEqual(
      after.items.map((n) => [n.id, n.read]),
      before.items.map((n) => [n.id, n.id === target.id]),
      `${node.name}: only that one is read, order unchanged`,
    );
  }
  assert.equal(sql(`SELECT read FROM notifications WHERE id = ${target.id}`), 't', 'stored as read');

  const again = await api(a, 'POST', readPath(target.id), { token: me.token });
  assert.equal(again.status, 204, `marking it again: ${again.text}`);
  assert.equal((await notificationsOf(b, me.token)).unread, 2, 'unread does not go down twice');

  // Read them all: unread reaches 0 and stays there.
  for (const n of before.items) assert.equal((await api(a, 'POST', readPath(n.id), { token: me.token })).status, 204);
  assert.equal((await notificationsOf(a, me.token)).unread, 0);
  assert.equal((await api(b, 'POST', readPath(before.items[0].id), { token: me.token })).status, 204);
  const end = await notificationsOf(b, me.token);
  assert.equal(end.unread, 0, 'unread never goes below 0');
  assert.ok(end.items.every((n) => n.read === true), JSON.stringify(end));
});

test('marking someone else\'s or an unknown notification read is 404 and changes nothing', async (t) => {
  const [a] = await liveCluster(t, 1, {}, { name: 'ntfother' });
  const owner = await register(a);
  const intruder = await register(a);
  await giftsTo(a, owner, 1);
  const [theirs] = (await notificationsOf(a, owner.token)).items;

  assertError(await api(a, 'POST', readPath(theirs.id), { token: intruder.token }), 404, 'not_found', 'another user\'s notification');
  assertError(await api(a, 'POST', readPath(unknownId('notifications')), { token: owner.token }), 404, 'not_found', 'an unknown notification');
  assertError(await api(a, 'POST', readPath(theirs.id)), 401, 'unauthorized', 'without a token');
  assert.equal(sql(`SELECT read FROM notifications WHERE id = ${theirs.id}`), 'f', 'still unread in PostgreSQL');
  const list = await notificationsOf(a, owner.token);
  assert.equal(list.unread, 1, 'the owner still has it unread');
  assert.equal(list.items[0].read, false);
});

test('with more than 100 notifications the list gives the newest 100 and unread counts them all', async (t) => {
  // 105 gifts from one token in a burst: not a test of the request rate.
  const [a] = await liveCluster(t, 1, { SB_REQUESTS_PER_TOKEN_PER_S: '0' }, { name: 'ntfmany' });
  const me = await register(a);
  const { gifts } = await giftsTo(a, me, 105);
  const list = await notificationsOf(a, me.token, '?limit=100');
  assert.equal(list.items.length, 100);
  assert.deepEqual(
    list.items.map((n) => n.data.gift_id),
    gifts.slice(5).map((g) => g.id).reverse(),
    'the newest 100, newest first',
  );
  assert.equal(list.unread, 105, 'unread counts every unread notification of the user');
  const deflt = await notificationsOf(a, me.token);
  assert.equal(deflt.items.length, 20, 'the default limit is 20');
  assert.deepEqual(deflt.items, list.items.slice(0, 20));
});

test('once the user\'s Redis keys are gone, the list comes back the same from PostgreSQL', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'ntffall' });
  const me = await register(a);
  await giftsTo(a, me, 4);
  const first = await notificationsOf(a, me.token);
  assert.equal((await api(a, 'POST', readPath(first.items[2].id), { token: me.token })).status, 204);
  const before = await notificationsOf(b, me.token);
  assert.equal(before.unread, 3, JSON.stringify(before));

  const keys = userRedisKeys(a.prefix, me.user.id);
  assert.ok(keys.length > 0, `the user has Redis keys under ${a.prefix} to delete (found none)`);
  t.diagnostic(`deleting ${keys.join(' ')}`);
  redis('DEL', ...keys);
  assert.deepEqual(userRedisKeys(a.prefix, me.user.id), [], `the keys are gone: ${keys}`);

  for (const node of [b, a]) {
    const after = await notificationsOf(node, me.token);
    assert.deepEqual(after, before, `${node.name}: the same items and unread after deleting ${keys.join(', ')}`);
  }
  // And a new notification after the fall back is listed on top of the old ones.
  const { gifts } = await giftsTo(b, me, 1);
  const latest = await notificationsOf(a, me.token);
  assert.equal(latest.items[0].data.gift_id, gifts[0].id, 'the new one first');
  assert.deepEqual(latest.items.slice(1), before.items, 'then the old ones');
  assert.equal(latest.unread, 4);
});

test('a feed change that failed half-way (the unread count could not be raised) is repaired: the feed is dropped and rebuilt from PostgreSQL', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'ntfrepair' });
  const me = await register(node);
  assert.deepEqual(await notificationsOf(node, me.token), { items: [], unread: 0 }); // the feed is in Redis now
  const unreadKey = `${node.prefix}nu:${me.user.id}`;
  assert.equal(redis('EXISTS', `${node.prefix}nl:${me.user.id}`), '1', 'the feed was built');
  // The next push's script adds to the list, then fails on the count.
  redis('SET', unreadKey, 'not-a-number', 'KEEPTTL');
  const { gifts } = await giftsTo(node, me, 1);
  const repaired = await waitFor(
    async () => {
      const list = await notificationsOf(node, me.token);
      return list.unread === 1 && list.items.length === 1 ? list : false;
    },
    { what: 'the feed to be rebuilt with the gift and an unread count of 1' },
  );
  assert.equal(repaired.items[0].data.gift_id, gifts[0].id);
  const figures = await stats(node);
  assert.ok(figures.feeds.repaired >= 1, JSON.stringify(figures.feeds));
  assert.equal(figures.feeds.suspect, 0);
  assert.equal(redis('GET', unreadKey), '1', 'the rebuilt count');
});

test('a feed left short by something no repair saw (a notification committed by a node that died before its feed update) is rebuilt within notification_feed_ttl_s', async (t) => {
  const [node] = await liveCluster(t, 1, { SB_NOTIFICATION_FEED_TTL_S: '1' }, { name: 'ntfttl' });
  const me = await register(node);
  await giftsTo(node, me, 1);
  assert.equal((await notificationsOf(node, me.token)).unread, 1); // the feed is in Redis now
  const id = Number(sql(`INSERT INTO notifications (user_id, kind, data) VALUES (${me.user.id}, 'gift_received', '{"coins":1}') RETURNING id`));
  const rebuilt = await waitFor(
    async () => {
      const list = await notificationsOf(node, me.token);
      return list.items.some((n) => n.id === id) ? list : false;
    },
    { what: 'the feed to be rebuilt with the notification it missed' },
  );
  assert.equal(rebuilt.unread, 2);
  // The rebuilt feed lives notification_feed_ttl_s, and a push onto it
  // does not extend that: it is rebuilt on schedule however busy.
  const listKey = `${node.prefix}nl:${me.user.id}`;
  await waitFor(() => Number(redis('PTTL', listKey)) > 0, { what: 'the rebuilt feed to be in Redis' });
  await giftsTo(node, me, 1);
  const pttl = Number(redis('PTTL', listKey));
  // -2: it aged out already (1 s); else at most its rebuild's age.
  assert.ok(pttl === -2 || (pttl > 0 && pttl <= 1000), `the feed lives at most notification_feed_ttl_s: PTTL ${pttl}`);
});
