// live_backpressure — one slow client never slows the others: a WebSocket
// client that stops reading is cut off with 4008 once its outbound queue
// passes SB_LIVE_MAX_QUEUE, while a fast client on the same channel gets
// every message, in order; the slow one can then resume from its offset.
// Never: waits for time — it waits for the node's own counters and frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, ADMIN_KEY } from './lib/harness.mjs';
import { liveCluster, openWs, subscribe, nextFrame, pushOn, published, uniqueId } from './lib/live.mjs';

const stats = async (node) =>
  (await fetch(`${node.url}/stats`, { headers: { 'X-Admin-Key': ADMIN_KEY } })).json();

test('a client that stops reading is cut off with 4008; a fast one on the same channel gets everything', async (t) => {
  const [node] = await liveCluster(t, 1, { SB_LIVE_MAX_QUEUE: '50' }, { name: 'slow' });
  const channel = `comments:chapter:${uniqueId()}`;
  const fast = await openWs(node);
  const slow = await openWs(node);
  await subscribe(fast, channel);
  await subscribe(slow, channel);
  slow._socket.pause(); // it stops reading: the kernel buffers fill, then its queue

  // Large messages fill the socket buffers quickly.
  const pad = 'x'.repeat(16 * 1024);
  const offsets = [];
  let cut = false;
  for (let n = 1; n <= 2000 && !cut; n++) {
    offsets.push(await published(node, channel, 'comment.created', { n, pad }));
    if (n % 50 === 0) cut = (await stats(node)).pubsub.dropped > 0;
  }
  assert.ok(cut, 'the slow client was cut off (pushes dropped from its queue)');

  // The fast client received every message, in order, once.
  const last = offsets[offsets.length - 1];
  await nextFrame(fast, (f) => f.channel === channel && f.offset === last, 20000);
  const got = fast.frames.filter((f) => f.channel === channel && f.event === 'comment.created');
  assert.deepEqual(got.map((f) => f.offset), offsets, 'every message, in order, once');

  // The slow one, reading again, finds the 4008 close after what was buffered.
  const closedAs = new Promise((resolve) => slow.on('close', (code) => resolve(code)));
  slow._socket.resume();
  assert.equal(await closedAs, 4008);

  // It can resume from the last offset it saw and miss nothing.
  const seen = slow.frames.filter((f) => f.channel === channel && f.offset).map((f) => f.offset);
  const since = seen.length ? seen[seen.length - 1] : undefined;
  const again = await openWs(node);
  const reply = await subscribe(again, channel, since);
  assert.equal(reply.ok, true, JSON.stringify(reply));
  await nextFrame(again, (f) => f.channel === channel && f.offset === last, 20000);
  const resumed = again.frames.filter((f) => f.channel === channel && f.event === 'comment.created');
  const expected = offsets.slice(since ? offsets.indexOf(since) + 1 : 0);
  assert.deepEqual(resumed.map((f) => f.offset), expected, 'the rest, in order, once');

  // And the node is still serving.
  assert.equal((await fetch(`${node.url}/healthz`)).status, 200);
  await waitFor(async () => (await stats(node)).connections.ws >= 2, { what: 'the others still connected' });
});
