// live_new_channels — a signed-in user may bring at most
// live_new_channels_per_user collab channels into existence per hour by
// publishing to them (WebSocket op "publish"); past it the publish is refused
// with rate_limited and nothing is stored, while publishing to channels that
// already exist, and other users' creations, go on.
// Never: sleeps instead of waiting for a reply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redis, register } from './lib/harness.mjs';
import { assertRefused, liveCluster, openWs, request, uniqueId } from './lib/live.mjs';

const publishTo = (ws, channel, data = { n: 1 }) => request(ws, { op: 'publish', channel, data });

test('creating collab channels by publishing is bounded per user and hour', async (t) => {
  const [node] = await liveCluster(t, 1, {
    SB_LIVE_NEW_CHANNELS_PER_USER: '2',
    SB_LIVE_PUBLISH_RATE: '1000',
    SB_LIVE_PUBLISH_BURST: '1000',
  }, { name: 'newch' });
  const alice = await register(node);
  const ws = await openWs(node, { token: alice.token });
  const [first, second, third] = [1, 2, 3].map(() => `collab:chapter:${uniqueId()}`);

  for (const channel of [first, second]) {
    const reply = await publishTo(ws, channel);
    assert.equal(reply.ok, true, JSON.stringify(reply));
  }
  const counter = `${node.prefix}nc:${alice.user.id}`;
  assert.equal(redis('GET', counter), '2');
  const pttl = Number(redis('PTTL', counter));
  assert.ok(pttl > 0 && pttl <= 3600 * 1000, `the counter expires within the hour (${pttl} ms)`);

  const refused = await publishTo(ws, third);
  assertRefused(refused, 'rate_limited', 'a third new channel');
  assert.ok(refused.error.retry_after_ms > 0 && refused.error.retry_after_ms <= 3600 * 1000,
    JSON.stringify(refused));
  assert.equal(redis('EXISTS', `${node.prefix}q:${third}`), '0', 'no counter for the refused channel');
  assert.equal(redis('EXISTS', `${node.prefix}h:${third}`), '0', 'no history for the refused channel');
  assert.equal(redis('GET', counter), '2', 'a refused publish does not count');

  // Channels that exist take more messages; the user's bound is the user's.
  const more = await publishTo(ws, first, { n: 2 });
  assert.equal(more.ok, true, JSON.stringify(more));
  const bob = await register(node);
  const bobWs = await openWs(node, { token: bob.token });
  const bobs = await publishTo(bobWs, third);
  assert.equal(bobs.ok, true, JSON.stringify(bobs));
  // Now that it exists, alice may publish to it as well.
  const joined = await publishTo(ws, third, { n: 3 });
  assert.equal(joined.ok, true, JSON.stringify(joined));
});
