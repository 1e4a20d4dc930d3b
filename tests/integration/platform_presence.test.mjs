// platform_presence — who is online and who is in a collab channel: a user
// is online while any WS/SSE connection of theirs is open on any node (asked
// on either node; last_seen once they leave); a node killed without goodbye
// loses its users and channel presence within 30 s; collab:chapter:<id>
// presence — the list endpoint, one presence.join per user however many
// tabs, presence.leave only when the last tab unsubscribes or closes — and
// its 400/401 answers.
// Never: waits for time — a close is known to be processed when the node's
// /stats connection count drops; checks that something did NOT arrive only
// behind a later push that must arrive after it. Never leaves the
// deliberately killed node to liveCluster (its exit is not a failure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register, startNode, stats, waitFor } from './lib/harness.mjs';
import {
  liveCluster, openWs, subscribe, request, nextFrame, pushOn, closed, sse, nextEvent, uniqueId,
} from './lib/live.mjs';
import { assertError, channelPresence, isRfc3339Utc, onlineUsers, presenceOf } from './lib/platform.mjs';

const connections = async (node, kind) => (await stats(node)).connections[kind];
const joinOf = (channel, userId) => (f) => pushOn(channel, 'presence.join')(f) && f.data?.user_id === userId;
const leaveOf = (channel, userId) => (f) => pushOn(channel, 'presence.leave')(f) && f.data?.user_id === userId;
const member = ({ user }) => ({ user_id: user.id, display_name: user.display_name });
const byId = (users) => [...users].sort((x, y) => x.user_id - y.user_id);

async function membersOf(node, token, channel) {
  const res = await channelPresence(node, token, channel);
  assert.equal(res.status, 200, `GET /api/channels/${channel}/presence on ${node.name}: ${res.text}`);
  assert.equal(res.body.channel, channel, `the answer names the channel: ${res.text}`);
  return byId(res.body.users);
}

test('a user is online while a WS or SSE connection of theirs is open on any node; last_seen once gone', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'prsonline' });
  const me = await register(a);
  for (const node of [a, b])
    assert.deepEqual(await presenceOf(node, me.user.id), { user_id: me.user.id, online: false, last_seen: null }, `${node.name}: never seen`);
  assert.deepEqual(await onlineUsers(a), { count: 0, items: [] }, 'nobody is online in a new cluster');

  const anon = await openWs(a); // anonymous connections make nobody online
  const ws = await openWs(a, { token: me.token });
  const stream = await sse(b, { channels: [`user:${me.user.id}`], token: me.token });
  for (const node of [a, b]) {
    await waitFor(async () => (await presenceOf(node, me.user.id)).online === true, { what: `online as seen on ${node.name}` });
    assert.deepEqual(await onlineUsers(node), { count: 1, items: [me.user.id] }, `${node.name}: the online list is just the user`);
  }

  ws.close();
  await closed(ws);
  await waitFor(async () => (await connections(a, 'ws')) === 1, { what: 'node a to count only the anonymous WS' });
  for (const node of [a, b]) {
    const p = await presenceOf(node, me.user.id);
    assert.equal(p.online, true, `${node.name}: still online through the SSE stream on b: ${JSON.stringify(p)}`);
    assert.deepEqual((await onlineUsers(node)).items, [me.user.id]);
  }

  await stream.close();
  for (const node of [b, a]) {
    const p = await waitFor(
      async () => {
        const now = await presenceOf(node, me.user.id);
        return now.online === false && now;
      },
      { what: `offline as seen on ${node.name}` },
    );
    assert.ok(isRfc3339Utc(p.last_seen), `${node.name}: last_seen is an RFC 3339 UTC time: ${JSON.stringify(p)}`);
    assert.ok(Math.abs(Date.parse(p.last_seen) - Date.now()) < 5 * 60 * 1000, `last_seen is about now: ${p.last_seen}`);
    assert.deepEqual(await onlineUsers(node), { count: 0, items: [] }, `${node.name}: nobody online`);
  }
  anon.close();
});

test('the users of a node killed without goodbye leave the online list and channel presence within 30 s', async (t) => {
  const [a] = await liveCluster(t, 1, {}, { name: 'prskill' });
  // Same cluster (shared prefix); started and stopped here, not by liveCluster.
  const victim = await startNode({ name: 'prsvictim', env: { SB_REDIS_KEY_PREFIX: a.prefix } });
  t.after(() => victim.stop());
  const channel = `collab:chapter:${uniqueId()}`;
  const stays = await register(a);
  const dies = await register(victim);

  const watcher = await openWs(a, { token: stays.token });
  await subscribe(watcher, channel);
  const doomed = await openWs(victim, { token: dies.token });
  await subscribe(doomed, channel);
  await nextFrame(watcher, joinOf(channel, dies.user.id));
  await waitFor(async () => (await onlineUsers(a)).items.includes(dies.user.id), { what: 'the victim\'s user online as seen on a' });
  assert.deepEqual(await membersOf(a, stays.token, channel), byId([member(stays), member(dies)]));

  victim.child.kill('SIGKILL');
  const { signal } = await victim.exited;
  assert.equal(signal, 'SIGKILL');

  const left = await nextFrame(watcher, leaveOf(channel, dies.user.id), 40000);
  assert.equal(left.data.user_id, dies.user.id);
  await waitFor(
    async () => {
      const online = await onlineUsers(a);
      return !online.items.includes(dies.user.id) && online;
    },
    { ms: 40000, every: 250, what: 'the dead node\'s user to leave the online list' },
  );
  assert.deepEqual(await onlineUsers(a), { count: 1, items: [stays.user.id] }, 'the survivor\'s user is still online');
  const p = await presenceOf(a, dies.user.id);
  assert.equal(p.online, false, JSON.stringify(p));
  assert.ok(isRfc3339Utc(p.last_seen), `last_seen: ${JSON.stringify(p)}`);
  await waitFor(
    async () => JSON.stringify(await membersOf(a, stays.token, channel)) === JSON.stringify([member(stays)]),
    { ms: 40000, every: 250, what: 'the channel presence to hold only the survivor' },
  );
});

test('collab presence: one join per user however many tabs, a leave only when the last tab goes', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'prscollab' });
  const channel = `collab:chapter:${uniqueId()}`;
  const observer = await register(b);
  const reader = await register(a);
  const other = await register(a);

  const obs = await openWs(b, { token: observer.token });
  await subscribe(obs, channel);
  assert.deepEqual(await membersOf(a, observer.token, channel), [member(observer)], 'the observer alone');

  // Tab 1: a WebSocket on a.
  const tab1 = await openWs(a, { token: reader.token });
  await subscribe(tab1, channel);
  const join = await nextFrame(obs, joinOf(channel, reader.user.id));
  assert.equal(join.data.user_id, reader.user.id, `presence.join data: ${JSON.stringify(join)}`);
  for (const node of [a, b])
    assert.deepEqual(await membersOf(node, other.token, channel), byId([member(observer), member(reader)]), `${node.name}: both present`);

  // Tab 2: an SSE stream on b. Known to be in once a message published after it arrives on it.
  const tab2 = await sse(b, { channels: [channel], token: reader.token });
  const marker = await request(obs, { op: 'publish', channel, data: { marker: 1 } });
  assert.equal(marker.ok, true, JSON.stringify(marker));
  await nextEvent(tab2, (r) => r.json?.offset === marker.offset);
  // Then another user joins: a second join of the reader would have come first.
  const tab3 = await openWs(a, { token: other.token });
  await subscribe(tab3, channel);
  await nextFrame(obs, joinOf(channel, other.user.id));
  assert.equal(obs.frames.filter(joinOf(channel, reader.user.id)).length, 1, 'a second tab of the reader: no second join');

  // Closing tab 1 (tab 2 still in): no leave — checked behind the other user's leave.
  tab1.close();
  await closed(tab1);
  await waitFor(async () => (await connections(a, 'ws')) === 1, { what: 'node a to process tab 1\'s close' });
  const unsub = await request(tab3, { op: 'unsubscribe', channel });
  assert.equal(unsub.ok, true, JSON.stringify(unsub));
  const otherLeft = await nextFrame(obs, leaveOf(channel, other.user.id));
  assert.equal(otherLeft.data.user_id, other.user.id, 'an unsubscribe is a leave');
  assert.equal(obs.frames.filter(leaveOf(channel, reader.user.id)).length, 0, 'closing one of two tabs is no leave');
  assert.deepEqual(await membersOf(b, observer.token, channel), byId([member(observer), member(reader)]), 'the reader is still present');

  // Closing the last tab is the leave.
  await tab2.close();
  await nextFrame(obs, leaveOf(channel, reader.user.id));
  await waitFor(
    async () => JSON.stringify(await membersOf(a, observer.token, channel)) === JSON.stringify([member(observer)]),
    { what: 'the channel presence to hold only the observer' },
  );
  assert.equal(obs.frames.filter(leaveOf(channel, reader.user.id)).length, 1, 'one leave');
});

test('channel presence is for signed-in users on collab channels: 401 without token, 400 for other channels', async (t) => {
  const [a] = await liveCluster(t, 1, {}, { name: 'prsbad' });
  const me = await register(a);
  const collab = `collab:chapter:${uniqueId()}`;
  assert.deepEqual(await membersOf(a, me.token, collab), [], 'an empty collab channel has no users');
  assertError(await channelPresence(a, undefined, collab), 401, 'unauthorized', 'without a token');
  assertError(await channelPresence(a, 'bogus', collab), 401, 'unauthorized', 'with an unknown token');
  for (const channel of [`comments:chapter:${uniqueId()}`, `books:${uniqueId()}`, `user:${me.user.id}`])
    assertError(await channelPresence(a, me.token, channel), 400, undefined, `${channel} has no presence`);
  for (const channel of ['nonsense:1', 'collab:chapter:abc', 'collab:book:5'])
    assertError(await channelPresence(a, me.token, channel), 400, 'unknown_channel', `the unknown channel ${channel}`);
});
