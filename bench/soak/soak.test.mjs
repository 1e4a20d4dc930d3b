// soak — the long run (bench/, not CI): thousands of live clients through
// nginx on the three-node cluster of scripts/cluster, with its own Redis
// (AOF, fsync always) and PostgreSQL, for SOAK_MINUTES under steady
// publishing and gifts, while node1 is drained (SIGTERM) at 20 % of the run,
// Redis restarted (SIGTERM) at 40 %, Redis killed (SIGKILL) at 60 % and
// started again REDIS_DOWN_MS later, and node3 killed (SIGKILL) at 80 % —
// scripts/cluster starts a node that exited again. Publishing stops at 95 %;
// once every client has caught up it counts, per client, the messages of
// its channel it should have got from its first subscription on and did
// not (lost), those it got twice (duplicated) and those a resume answered
// recovered:false said it would not get (counted, not lost); checks that
// Redis's history still holds every message accepted, that the gift users'
// balances moved by the gifts made and nothing else, and that each node's
// RSS, once its clients have left, is back near its baseline. Prints a
// summary and writes the figures as JSON to SOAK_OUT (default
// bench/soak/last-run.json).
// Run: see bench/soak/README.md. Knobs (environment): SOAK_MINUTES (30),
// SOAK_CLIENTS (3000), SOAK_SSE_CLIENTS (a tenth of those), SOAK_CHANNELS (30),
// SOAK_RATE (20 messages/s in all), SOAK_GIFT_USERS (20), SOAK_GIFT_RATE
// (2 gifts/s).
// Owns: the private Redis, PostgreSQL and cluster it starts (stopped by the
// harness after the file), the clients and traffic, the report file.
// Never: signals anything but the node pids scripts/cluster wrote (checked
// to be switchboard nodes first) and its own Redis; writes to Redis (it only
// reads the channels' history at the end); sleeps for time but to the run's
// clock-based schedule points (the timeline, each message's and gift's due
// time) and a client's reconnect backoff — every other wait is for a
// condition with a deadline.
import './env.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { api, redisAt, register, stats, waitFor } from '../../tests/integration/lib/harness.mjs';
import { startRedis, startPostgres } from '../../tests/integration/lib/servers.mjs';
import { published, uniqueId } from '../../tests/integration/lib/live.mjs';
import { startScriptCluster } from '../../tests/integration/lib/cluster.mjs';
import { createLedger, sourceAddress, startFollower } from './followers.mjs';
import { startGifting, startPublishing } from './load.mjs';
import { checkBalances, checkDeliveries, checkHistory, checkMemory } from './checks.mjs';

/** A numeric knob from the environment: a number >= `min`, else `fallback` when unset. */
function knob(name, fallback, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name}=${raw}: want a number >= ${min}`);
  return value;
}

const MINUTES = knob('SOAK_MINUTES', 30, 0.5);
const CLIENTS = Math.round(knob('SOAK_CLIENTS', 3000));
const SSE_CLIENTS = Math.min(CLIENTS, Math.round(knob('SOAK_SSE_CLIENTS', CLIENTS / 10, 0)));
const CHANNELS = Math.round(knob('SOAK_CHANNELS', 30));
const RATE = knob('SOAK_RATE', 20, 0.1);
const GIFT_USERS = Math.round(knob('SOAK_GIFT_USERS', 20, 2));
const GIFT_RATE = knob('SOAK_GIFT_RATE', 2, 0.1);
const OUT = process.env.SOAK_OUT || fileURLToPath(new URL('./last-run.json', import.meta.url));

const DURATION_MS = MINUTES * 60000;
// The timeline, as fractions of the run (0 = when every client is connected).
const DRAIN_NODE1_AT = 0.2;
const RESTART_REDIS_AT = 0.4;
const KILL_REDIS_AT = 0.6;
const KILL_NODE3_AT = 0.8;
const STOP_PUBLISHING_AT = 0.95;
// How long Redis stays down after its SIGKILL: long enough that publishes
// and gifts fail and are retried, and the nodes lose their subscriptions,
// as in a crash that a supervisor restarts.
const REDIS_DOWN_MS = 3000;
// The nodes' Redis key prefix (config/switchboard.ini, docs/operations.md):
// the soak reads the channels' history (`h:<channel>`) at the end.
const KEY_PREFIX = process.env.SB_REDIS_KEY_PREFIX ?? 'sb:';
const NODE_WARNING = /Redis lost|gone from history|loss mark|offset \d+ follows/;

const INITIAL_COINS = 2000; // ~50 gifts of the 1..100 coins each: some senders run dry (422)
const CONNECT_BATCH = 100; // clients connecting at once
const RSS_SAMPLE_MS = 5000;
const PROGRESS_EVERY_SAMPLES = 12; // a progress line a minute
const RESTART_MS = 60000; // a node or Redis back and ready
const CATCH_UP_MS = 120000; // every client at its channel's last offset once publishing stopped
const QUIET_MS = 60000; // every node at 0 live connections once the clients closed
const SETTLE_MS = 30000; // RSS back under its limit once the connections are gone

const sleepUntil = (time) => new Promise((r) => setTimeout(r, Math.max(0, time - Date.now())));
const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const cmdline = (pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
const alive = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};
const NODES = [1, 2, 3];

/**
 * A node log's warnings and errors (spdlog: `<time> <level> [<node>] <text>`),
 * grouped by their text with the numbers masked: {warning, error, kinds:
 * [{level, text, n, first}]}, the most frequent first.
 */
function logTally(text) {
  const tally = { warning: 0, error: 0, kinds: [] };
  const kinds = new Map();
  for (const line of text.split('\n')) {
    const m = /^(\S+) (warning|error|critical) \[[^\]]*\] (.*)$/.exec(line);
    if (!m) continue;
    const level = m[2] === 'warning' ? 'warning' : 'error';
    tally[level]++;
    const key = `${level} ${m[3].replace(/\d+/g, 'N')}`;
    if (!kinds.has(key)) kinds.set(key, { level, text: m[3].replace(/\d+/g, 'N'), n: 0, first: m[1] });
    kinds.get(key).n++;
  }
  tally.kinds = [...kinds.values()].sort((a, b) => b.n - a.n).slice(0, 15);
  return tally;
}

/**
 * A channel's history as redis-cli prints `XRANGE h:<channel> - +` (one
 * value a line: an entry's id `0-<offset>`, then its fields and values; no
 * value is ever of that form): [{offset, previous, event, seq}], in order.
 */
function historyOf(text) {
  const entries = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const id = /^0-(\d+)$/.exec(lines[i]);
    if (!id) continue;
    const entry = { offset: id[1], previous: null, event: null, seq: null };
    for (let j = i + 1; j + 1 < lines.length && !/^0-\d+$/.test(lines[j]); j += 2) {
      const [field, value] = [lines[j], lines[j + 1]];
      if (field === 'p') entry.previous = value;
      else if (field === 'e') entry.event = value;
      else if (field === 'm') {
        try {
          entry.seq = JSON.parse(value).data?.seq ?? null;
        } catch {
          /* left null: checkHistory reports the seq as missing */
        }
      }
    }
    entries.push(entry);
  }
  return entries;
}

test(`soak: ${MINUTES} min, ${CLIENTS} clients, node drain + Redis restart + Redis kill + node kill`, { timeout: DURATION_MS + 30 * 60000 }, async () => {
  const redis = await startRedis({ persistent: true });
  const pg = await startPostgres();
  const cluster = await startScriptCluster({ redisUrl: redis.url, databaseUrl: pg.url });
  const balancer = { url: cluster.url, port: cluster.port };
  const started = new Date();

  /** pid, RSS and live connections of node `i` now (its pid from scripts/cluster's pid file). */
  async function readNode(i) {
    const pid = cluster.pid(i);
    const s = await stats(cluster.nodes[i - 1]);
    return { pid, rss_kb: rssKb(pid), ws: s.connections.ws, sse: s.connections.sse };
  }
  const readyz = async (target) => {
    try {
      return (await api(target, 'GET', '/readyz')).status === 200;
    } catch {
      return false; // not listening (yet)
    }
  };

  // --- Setup: channels, gift users, a warm-up on each node, baselines.
  const channels = Array.from({ length: CHANNELS }, () => `comments:chapter:${uniqueId()}`);
  const users = [];
  for (let i = 0; i < GIFT_USERS; i++) {
    const { token, user } = await register(balancer);
    users.push({ id: user.id, token });
  }
  pg.sql(`UPDATE wallets SET coins = ${INITIAL_COINS} WHERE user_id IN (${users.map((u) => u.id).join(',')})`);
  // Every channel gets a message before anyone subscribes (a subscribe reply
  // then names a real offset, never "0"), and every node serves some of
  // each kind of request before its baseline is read.
  for (const node of cluster.nodes) {
    for (const channel of channels) await published(node, channel, 'soak.warmup', { seq: 0 });
    for (const u of users) assert.equal((await api(node, 'GET', '/api/me/balance', { token: u.token })).status, 200);
  }
  const baseline = await Promise.all(NODES.map(readNode));

  const ledger = createLedger();
  const followers = [];
  let publishing = null;
  let gifting = null;
  let sampler = null;
  try {
    // --- Clients: SSE_CLIENTS on SSE, the rest on WebSocket, round-robin over the channels.
    for (let first = 0; first < CLIENTS; first += CONNECT_BATCH) {
      const batch = [];
      for (let i = first; i < Math.min(CLIENTS, first + CONNECT_BATCH); i++)
        batch.push(
          startFollower({
            kind: i < SSE_CLIENTS ? 'sse' : 'ws',
            index: i,
            channel: channels[i % CHANNELS],
            localAddress: sourceAddress(i),
            balancer,
            ledger,
          }),
        );
      const results = await Promise.allSettled(batch);
      for (const r of results) if (r.status === 'fulfilled') followers.push(r.value);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw new Error(`a client could not connect: ${failed.reason.message}`);
    }
    const connected = await Promise.all(NODES.map(readNode));

    // --- The run: traffic from T0, the timeline's events on the clock.
    const T0 = Date.now();
    const at = (fraction) => T0 + fraction * DURATION_MS;
    const timeline = [];
    const elapsedS = () => Math.round((Date.now() - T0) / 100) / 10;
    const note = (what) => {
      timeline.push({ at_s: elapsedS(), what });
      console.log(`soak ${elapsedS()} s: ${what}`);
    };
    const peakKb = new Map(); // pid -> highest RSS sampled
    const knownPid = baseline.map((b) => b.pid); // per node: the process the soak expects
    const restarting = new Set(); // nodes the soak is restarting right now
    const runPeakKb = [0, 0, 0]; // per node, over all its processes
    let samples = 0;
    const progress = () =>
      `${publishing.channels.reduce((n, c) => n + c.accepted.length, 0)} messages published, ` +
      `${followers.reduce((n, f) => n + f.received, 0)} pushes received, ${followers.filter((f) => f.session).length} clients connected, ` +
      `${gifting.gifts.filter((g) => g.status === 201).length} gifts made`;
    const sample = () => {
      for (const i of NODES) {
        try {
          const pid = cluster.pid(i);
          if (pid !== knownPid[i - 1] && !restarting.has(i)) {
            note(`node${i}: pid ${knownPid[i - 1]} was replaced by ${pid} — not by the soak (see node exits)`);
            knownPid[i - 1] = pid;
          }
          const kb = rssKb(pid);
          peakKb.set(pid, Math.max(peakKb.get(pid) ?? 0, kb));
          runPeakKb[i - 1] = Math.max(runPeakKb[i - 1], kb);
        } catch {
          /* between a node's exit and its restart */
        }
      }
      if (++samples % PROGRESS_EVERY_SAMPLES === 0) console.log(`soak ${elapsedS()} s: ${progress()}`);
    };
    note(`${followers.length} clients connected (ws+sse per node: ${connected.map((c) => c.ws + c.sse).join('/')}); publishing and gifts start`);
    publishing = startPublishing({ balancer, channels, rate: RATE, startAt: T0, stopAt: at(STOP_PUBLISHING_AT) });
    gifting = startGifting({
      balancer,
      users,
      rate: GIFT_RATE,
      startAt: T0,
      stopAt: at(STOP_PUBLISHING_AT),
      keyPrefix: `soak-${process.pid}-${T0}`,
    });
    sample();
    sampler = setInterval(sample, RSS_SAMPLE_MS);

    const fresh = [null, null, null]; // the new process of a node restarted on purpose, once ready
    /** Signals node `i` and waits until scripts/cluster has started it again and it is ready. */
    async function restartNode(i, signal) {
      const pid = cluster.pid(i);
      assert.ok(cmdline(pid).includes(process.env.SB_BINARY), `node${i}.pid (${pid}) names a switchboard node`);
      restarting.add(i);
      const before = await readNode(i);
      process.kill(pid, signal);
      const signalled = Date.now();
      note(`node${i}: ${signal} to pid ${pid} (${before.ws + before.sse} clients, ${mb(before.rss_kb)} MB)`);
      const newPid = await waitFor(
        () => {
          try {
            const p = cluster.pid(i);
            return p !== pid && alive(p) && p;
          } catch {
            return false; // the pid file is being rewritten
          }
        },
        { ms: RESTART_MS, every: 100, what: `scripts/cluster to start node${i} again` },
      );
      await waitFor(() => readyz(cluster.nodes[i - 1]), { ms: RESTART_MS, every: 100, what: `node${i} (pid ${newPid}) to be ready` });
      fresh[i - 1] = await readNode(i);
      knownPid[i - 1] = newPid;
      restarting.delete(i);
      note(
        `node${i}: back as pid ${newPid}, ready ${((Date.now() - signalled) / 1000).toFixed(1)} s after the signal ` +
          `(${mb(fresh[i - 1].rss_kb)} MB, ${fresh[i - 1].ws + fresh[i - 1].sse} clients)`,
      );
    }

    await sleepUntil(at(DRAIN_NODE1_AT));
    await restartNode(1, 'SIGTERM');

    /** Waits until every node is ready again once Redis is back; notes how long it took from `since`. */
    async function nodesReadyAfterRedis(since, what) {
      await waitFor(async () => (await Promise.all(cluster.nodes.map(readyz))).every(Boolean), {
        ms: RESTART_MS,
        every: 100,
        what: `every node to be ready after the Redis ${what}`,
      });
      note(`Redis: every node ready again ${((Date.now() - since) / 1000).toFixed(1)} s after the ${what}`);
    }

    await sleepUntil(at(RESTART_REDIS_AT));
    const redisStopped = Date.now();
    note('Redis: restart (SIGTERM, started again on its port with its AOF)');
    await redis.restart();
    await nodesReadyAfterRedis(redisStopped, 'restart began');

    // A crash: nothing is flushed, but with appendfsync always every write
    // Redis acknowledged is already in the AOF.
    await sleepUntil(at(KILL_REDIS_AT));
    const redisKilled = Date.now();
    await redis.kill();
    note(`Redis: SIGKILL; down for ${REDIS_DOWN_MS / 1000} s`);
    await sleepUntil(redisKilled + REDIS_DOWN_MS);
    await redis.start();
    note(`Redis: started again on its AOF, answering ${((Date.now() - redisKilled) / 1000).toFixed(1)} s after the SIGKILL`);
    await nodesReadyAfterRedis(redisKilled, 'SIGKILL');

    await sleepUntil(at(KILL_NODE3_AT));
    const planned3Pid = cluster.pid(3);
    await restartNode(3, 'SIGKILL');

    await Promise.all([publishing.done, gifting.done]);
    note('publishing and gifts stopped');

    // --- Catch-up: every client at its channel's last offset, none reconnecting.
    const lastOffset = new Map(publishing.channels.map((c) => [c.channel, c.accepted.at(-1)?.offset]));
    const caughtUp = (f) => f.failure || (!f.reconnecting && f.session && f.position === lastOffset.get(f.channel));
    const caughtUpIn = Date.now();
    await waitFor(() => followers.every(caughtUp), { ms: CATCH_UP_MS, every: 200, what: 'every client to catch up' }).catch(() => {
      /* who did not is reported by checkDeliveries */
    });
    note(`clients caught up (${followers.filter(caughtUp).length} of ${followers.length}) in ${((Date.now() - caughtUpIn) / 1000).toFixed(1)} s`);

    // What Redis holds now, after the restart and the kill, and what the
    // nodes noticed: Pub/Sub figures and their warnings of lost writes.
    const history = checkHistory(
      publishing,
      new Map(publishing.channels.map(({ channel }) => [channel, historyOf(redisAt(redis.url, 'XRANGE', `${KEY_PREFIX}h:${channel}`, '-', '+'))])),
    );
    const nodePubsub = await Promise.all(
      NODES.map(async (i) => ({ node: `node${i}`, pid: cluster.pid(i), ...(await stats(cluster.nodes[i - 1])).pubsub })),
    );
    const nodeLogs = Object.fromEntries(NODES.map((i) => [`node${i}`, logTally(cluster.nodeLog(i))]));
    const nodeWarnings = NODES.flatMap((i) =>
      cluster
        .nodeLog(i)
        .split('\n')
        .filter((line) => NODE_WARNING.test(line))
        .map((line) => `node${i}: ${line}`),
    );

    const delivery = checkDeliveries(followers, ledger, publishing, history);
    delivery.problems.unshift(...publishing.problems.list);
    delivery.problemCount += publishing.problems.count;
    delivery.ok &&= publishing.problems.count === 0;

    const finalCoins = new Map();
    for (const u of users) {
      const res = await api(balancer, 'GET', '/api/me/balance', { token: u.token });
      finalCoins.set(u.id, res.status === 200 ? res.body.coins : null);
    }
    const [giftRows, giftRowCoins] = pg
      .sql(`SELECT count(*), coalesce(sum(coins), 0) FROM gifts WHERE from_user_id IN (${users.map((u) => u.id).join(',')})`)
      .split('|')
      .map(Number);
    const balances = checkBalances(users, INITIAL_COINS, gifting.gifts, finalCoins, { count: giftRows, coins: giftRowCoins });
    balances.problems.unshift(...gifting.problems.list);
    balances.ok &&= gifting.problems.count === 0;

    // --- Memory: every client gone, every node at 0 live connections, RSS settled.
    await Promise.all(followers.map((f) => f.stop()));
    await waitFor(
      async () => (await Promise.all(cluster.nodes.map(stats))).every((s) => s.connections.ws === 0 && s.connections.sse === 0),
      { ms: QUIET_MS, every: 250, what: 'every node to count 0 live connections' },
    );
    clearInterval(sampler);
    sampler = null;
    const quietAt = Date.now();
    const reference = NODES.map((i) => fresh[i - 1] ?? baseline[i - 1]);
    const underLimit = async () => {
      const end = await Promise.all(NODES.map(readNode));
      return checkMemory(reference.map((r, k) => ({ node: `node${k + 1}`, baseline: r, end: end[k] }))).ok;
    };
    await waitFor(underLimit, { ms: SETTLE_MS, every: 500, what: 'RSS to settle' }).catch(() => {
      /* reported below */
    });
    const end = await Promise.all(NODES.map(readNode));
    note(`clients disconnected; RSS read ${((Date.now() - quietAt) / 1000).toFixed(1)} s after every node counted 0 connections`);
    const memory = checkMemory(
      NODES.map((i) => ({
        node: `node${i}`,
        baseline: baseline[i - 1],
        fresh: fresh[i - 1],
        peakKb: peakKb.get(end[i - 1].pid) ?? null,
        runPeakKb: runPeakKb[i - 1],
        end: end[i - 1],
      })),
    );
    // The only node exits: the two planned, node1's drain a clean one.
    const exits = [...cluster.logs.matchAll(/(node\d) \(pid (\d+)\) exited with status (\d+)/g)].map(([, node, pid, status]) => ({
      node,
      pid: Number(pid),
      status: Number(status),
    }));
    const planned = [
      { node: 'node1', pid: baseline[0].pid, status: 0 },
      { node: 'node3', pid: planned3Pid, status: null }, // killed: whatever the shell reports
    ];
    const exitProblems = [];
    for (const e of exits) {
      const plan = planned.find((p) => p.node === e.node && p.pid === e.pid);
      if (!plan) exitProblems.push(`${e.node} (pid ${e.pid}) exited with status ${e.status} unplanned`);
      else if (plan.status !== null && plan.status !== e.status) exitProblems.push(`${e.node} (pid ${e.pid}) exited with status ${e.status} after SIGTERM`);
    }
    if (exits.length < planned.length) exitProblems.push(`scripts/cluster reported ${exits.length} node exit(s), ${planned.length} planned`);

    const report = {
      started_at: started.toISOString(),
      finished_at: new Date().toISOString(),
      config: {
        minutes: MINUTES,
        clients: CLIENTS,
        ws_clients: CLIENTS - SSE_CLIENTS,
        sse_clients: SSE_CLIENTS,
        channels: CHANNELS,
        messages_per_s: RATE,
        gift_users: GIFT_USERS,
        gifts_per_s: GIFT_RATE,
        initial_coins: INITIAL_COINS,
        binary: process.env.SB_BINARY,
      },
      timeline,
      publishing: {
        messages: publishing.channels.reduce((n, c) => n + c.accepted.length, 0),
        attempts: publishing.attempts,
        retried_by_answer: publishing.retriedBy,
        seqs_with_an_unclear_attempt: publishing.channels.reduce((n, c) => n + c.ambiguous.size, 0),
        max_schedule_lag_ms: publishing.maxLagMs,
        slowest_answer: publishing.slowestAnswer,
      },
      delivery: {
        ok: delivery.ok,
        deliveries: delivery.deliveries,
        lost: delivery.lost,
        duplicated: delivery.duplicated,
        told_recovered_false: delivery.toldRecoveredFalse,
        live: delivery.live,
        replayed_on_resume: delivery.replayed,
        latency_ms_live: delivery.latencyMs,
        ws_resumes: delivery.wsResumes,
        ws_recovered_true: delivery.wsResumes - delivery.wsRecoveredFalse,
        ws_recovered_false: delivery.wsRecoveredFalse,
        sse_resumes: delivery.sseResumes,
        sse_recovered_false: delivery.sseRecoveredFalse,
        sse_recovered_late: delivery.sseRecoveredLate,
        clients_told_recovered_false: delivery.followersToldRecoveredFalse,
        failed_connection_attempts: delivery.failedConnectionAttempts,
        redis_history: {
          ok: history.ok,
          entries_kept: history.kept,
          accepted_missing: history.missing,
          unclear_attempts_stored: history.unclearStored,
          broken_links: history.brokenLinks,
        },
        node_pubsub: nodePubsub,
        node_warnings: { count: nodeWarnings.length, first: nodeWarnings.slice(0, 20) },
        problem_count: delivery.problemCount,
        problems: delivery.problems,
      },
      gifts: {
        ok: balances.ok,
        attempted: balances.attempted,
        made_201: balances.made,
        answered_as_replay: balances.replayed,
        refused_422: balances.insufficientFunds,
        unresolved: balances.unresolved,
        retried_by_answer: gifting.retriedBy,
        coins_moved: balances.movedCoins,
        total_coins_before: balances.totalBefore,
        total_coins_after: balances.totalAfter,
        problems: balances.problems,
      },
      memory: { ok: memory.ok, limit: 'reference + max(20 MiB, 25 %)', nodes: memory.nodes, problems: memory.problems },
      node_exits: { ok: exitProblems.length === 0, exits, problems: exitProblems },
      node_logs: nodeLogs,
      ok: delivery.ok && balances.ok && memory.ok && exitProblems.length === 0,
    };
    writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
    console.log(summary(report));
    console.log(`report: ${OUT}`);

    const failed = [
      ...delivery.problems.map((p) => `delivery: ${p}`),
      ...balances.problems.map((p) => `balances: ${p}`),
      ...memory.problems.map((p) => `memory: ${p}`),
      ...exitProblems.map((p) => `node exits: ${p}`),
    ];
    assert.ok(report.ok, `the soak failed:\n${failed.slice(0, 40).join('\n')}`);
  } catch (e) {
    e.message += `\n${cluster.tails()}`;
    throw e;
  } finally {
    publishing?.stop();
    gifting?.stop();
    if (sampler) clearInterval(sampler);
    await Promise.all(followers.map((f) => f.stop()));
  }
});

const mb = (kb) => (kb === null ? '-' : (kb / 1024).toFixed(1));
const count = (n) => n.toLocaleString('en-US');
const answers = (tally) =>
  Object.entries(tally)
    .map(([answer, n]) => `${answer}: ${n}`)
    .join(', ') || 'none';

/** The report as a person reads it. */
function summary(r) {
  const c = r.config;
  const d = r.delivery;
  const g = r.gifts;
  const lines = [
    '',
    `Soak ${r.ok ? 'PASSED' : 'FAILED'}: ${c.minutes} min, ${count(c.clients)} clients (${count(c.ws_clients)} WebSocket, ${count(c.sse_clients)} SSE) ` +
      `on ${c.channels} channels, ${c.messages_per_s} messages/s, ${c.gifts_per_s} gifts/s among ${c.gift_users} users`,
    'timeline:',
    ...r.timeline.map((e) => `  ${e.at_s.toFixed(1).padStart(8)} s  ${e.what}`),
    `publishing: ${count(r.publishing.messages)} messages accepted in ${count(r.publishing.attempts)} attempts ` +
      `(failed attempts by answer: ${answers(r.publishing.retried_by_answer)}); ${r.publishing.seqs_with_an_unclear_attempt} with an unclear attempt; ` +
      `max lag behind the schedule ${r.publishing.max_schedule_lag_ms} ms; slowest answer ${r.publishing.slowest_answer.ms} ms ` +
      `(${r.publishing.slowest_answer.answer}, sent ${r.publishing.slowest_answer.at})`,
    `delivery ${d.ok ? 'ok' : 'FAILED'}: ${count(d.deliveries)} pushes, lost ${count(d.lost)}, duplicated ${count(d.duplicated)}, ` +
      `told recovered:false ${count(d.told_recovered_false)} — ${count(d.live)} live (publish → receipt p50 ${d.latency_ms_live.p50} ms, ` +
      `p99 ${d.latency_ms_live.p99} ms, max ${d.latency_ms_live.max} ms), ${count(d.replayed_on_resume)} replayed on resume; ` +
      `WebSocket resumes ${count(d.ws_resumes)} (recovered:true ${count(d.ws_recovered_true)}, recovered:false ${count(d.ws_recovered_false)}), ` +
      `SSE resumes ${count(d.sse_resumes)} (event: recovered ${count(d.sse_recovered_false)}, late ${d.sse_recovered_late}), ` +
      `on ${d.clients_told_recovered_false} clients told recovered:false; failed connection attempts ${count(d.failed_connection_attempts)}; ` +
      `${d.problem_count} problem(s)`,
    `Redis history ${d.redis_history.ok ? 'ok' : 'FAILED'}: ${count(d.redis_history.entries_kept)} entries, ` +
      `${d.redis_history.accepted_missing} accepted messages missing, ${d.redis_history.unclear_attempts_stored} unclear attempts stored, ` +
      `${d.redis_history.broken_links} broken previous links; nodes' pubsub.offsets_went_back ` +
      `${d.node_pubsub.map((n) => `${n.node} ${n.offsets_went_back}`).join(', ')}, dropped ${d.node_pubsub.map((n) => n.dropped).join('/')}; ` +
      `${d.node_warnings.count} node warning(s) of lost writes`,
    `gifts ${g.ok ? 'ok' : 'FAILED'}: ${count(g.attempted)} — ${count(g.made_201)} made (201; ${g.answered_as_replay} answered as a replay of a lost answer), ` +
      `${count(g.refused_422)} refused (422 insufficient_funds), ${g.unresolved} unresolved; failed attempts by answer: ${answers(g.retried_by_answer)}; ` +
      `${count(g.coins_moved)} coins moved; total ${count(g.total_coins_before)} → ${count(g.total_coins_after)}`,
    `memory ${r.memory.ok ? 'ok' : 'FAILED'} (RSS MB; limit ${r.memory.limit}):`,
    '  node   baseline  restarted-fresh  run-peak  peak     end      limit',
    ...r.memory.nodes.map(
      (n) =>
        `  ${n.node}  ${mb(n.baseline_kb).padStart(8)}  ${mb(n.restarted_fresh_kb).padStart(15)}  ${mb(n.run_peak_kb).padStart(8)}  ${mb(n.peak_kb).padStart(7)}  ` +
        `${mb(n.end_kb).padStart(7)}  ${mb(n.limit_kb).padStart(7)}  ${n.restarted_unplanned ? 'RESTARTED' : n.ok ? 'ok' : 'OVER'}`,
    ),
  ];
  lines.push(`node exits ${r.node_exits.ok ? 'ok' : 'FAILED'}: ${r.node_exits.exits.map((e) => `${e.node} pid ${e.pid} status ${e.status}`).join('; ') || 'none'}`);
  lines.push(
    `node logs: ${Object.entries(r.node_logs)
      .map(([node, t]) => `${node} ${t.warning} warning(s), ${t.error} error(s)`)
      .join('; ')}`,
  );
  for (const [node, t] of Object.entries(r.node_logs))
    for (const k of t.kinds.slice(0, 4)) lines.push(`  ${node} ${k.level} ×${k.n} (first ${k.first}): ${k.text.slice(0, 160)}`);
  for (const p of [...d.problems.slice(0, 10), ...g.problems.slice(0, 10), ...r.memory.problems, ...r.node_exits.problems])
    lines.push(`  problem: ${p}`);
  for (const w of d.node_warnings.first.slice(0, 5)) lines.push(`  node warning: ${w}`);
  return lines.join('\n');
}
