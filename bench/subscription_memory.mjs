#!/usr/bin/env node
// subscription_memory — what one subscription costs a node in RSS, to choose
// between the design we run (one channel actor per channel, holding its
// local subscribers' sinks) and one actor per connection×channel pair
// (~1.2 KB per idle CAF actor, ../shared/notes/stack-facts.md).
// Starts its own node on SB_REDIS_URL / SB_DATABASE_URL, opens CONNECTIONS
// WebSockets, then subscribes each to PER_CONNECTION of CHANNELS channels,
// and reports the RSS growth per subscription. Not a test: run by hand.
//   SB_BINARY=build/switchboard SB_SOURCE_DIR=$PWD node bench/subscription_memory.mjs
import { readFileSync } from 'node:fs';
import { startNode, stats, waitFor } from '../tests/integration/lib/harness.mjs';
import { openWs, subscribe } from '../tests/integration/lib/live.mjs';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 2000);
const PER_CONNECTION = Number(process.env.PER_CONNECTION ?? 10);
const CHANNELS = Number(process.env.CHANNELS ?? 100);

const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

const node = await startNode({ name: 'membench', env: { SB_MAX_CONNECTIONS: String(CONNECTIONS + 100) } });
try {
  const base = 1e12 + Math.floor(Math.random() * 1e9);
  const sockets = [];
  for (let i = 0; i < CONNECTIONS; i++) sockets.push(await openWs(node));
  await waitFor(async () => (await stats(node)).connections.ws >= CONNECTIONS, { ms: 60000, what: 'all connections open' });
  const connected = rssKb(node.child.pid);
  for (let i = 0; i < CONNECTIONS; i++)
    await Promise.all(
      Array.from({ length: PER_CONNECTION }, (_, k) =>
        subscribe(sockets[i], `comments:chapter:${base + ((i + k) % CHANNELS)}`),
      ),
    );
  const s = await stats(node);
  const subscribed = rssKb(node.child.pid);
  const subscriptions = CONNECTIONS * PER_CONNECTION;
  console.log(
    JSON.stringify(
      {
        connections: CONNECTIONS,
        subscriptions,
        channel_actors: s.actors.channel.count,
        rss_kb_connected: connected,
        rss_kb_subscribed: subscribed,
        bytes_per_subscription: Math.round(((subscribed - connected) * 1024) / subscriptions),
        bytes_per_subscription_with_an_actor_per_pair_at_least: 1229,
      },
      null,
      2,
    ),
  );
  for (const ws of sockets) ws.terminate();
} finally {
  await node.stop();
}
