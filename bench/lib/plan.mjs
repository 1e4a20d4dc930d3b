// plan — the workloads as data: which servers, transports, connection
// counts, rate ladders and timings each one runs, full and --quick.
// Owns: every number of the method that is not the load generator's default
// (bench/README.md and docs/benchmarks.md describe them from here).
// Must never: depend on a running server (it is pure data and arithmetic).

export const WORKLOADS = ['w1', 'w2', 'w3', 'w4', 'reads', 'scale'];
/** Switchboard's runs: pinned with one loop (compared with the peers), unpinned, unpinned with two loops. */
export const SWITCHBOARDS = ['switchboard', 'switchboard-unpinned', 'switchboard-2loops'];
export const LIVE_SERVERS = [...SWITCHBOARDS, 'seed', 'socketio', 'nchan', 'nchan-redis'];
export const READ_SERVERS = [...SWITCHBOARDS, 'seed-express', 'seed-http', 'seed-http-coalesce', 'varnish', 'nginx-static'];
/** --servers names: switchboard (all three runs), seed (every seed_read variant), the others. */
export const SERVER_FAMILIES = ['switchboard', 'seed', 'socketio', 'nchan', 'nchan-redis', 'varnish', 'nginx-static'];
export const isSwitchboard = (server) => server.startsWith('switchboard');
export const familyOf = (server) => (server.startsWith('seed') ? 'seed' : isSwitchboard(server) ? 'switchboard' : server);
/** [server, transport] for each of Switchboard's runs. */
const sb = (...transports) => SWITCHBOARDS.flatMap((s) => transports.map((t) => [s, t]));

const FULL_TIMING = { settle: 1, warmup: 2, measure: 8, drain: 3 };
const QUICK_TIMING = { settle: 1, warmup: 1, measure: 2, drain: 1 };

export function makePlan({ quick }) {
  const t = quick ? QUICK_TIMING : FULL_TIMING;
  return {
    quick,
    w1: {
      title: 'W1 broadcast',
      conns: 5000,
      channels: 1,
      rates: quick ? [10, 20, 30] : [5, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 130, 160, 200],
      timing: t,
      variants: [...sb('ws', 'sse'), ['seed', 'ws'], ['socketio', 'ws'],
        ['nchan', 'ws'], ['nchan', 'sse'], ['nchan-redis', 'ws']],
    },
    w2: {
      title: 'W2 one channel per connection',
      conns: quick ? 2000 : 10000,
      channels: quick ? 2000 : 10000,
      rates: quick ? [1000, 4000, 8000]
        : [1000, 2000, 4000, 8000, 12000, 16000, 24000, 32000, 48000, 64000],
      timing: t,
      variants: [...sb('ws'), ['seed', 'ws'], ['socketio', 'ws'], ['nchan', 'ws'], ['nchan-redis', 'ws']],
    },
    w3: {
      title: 'W3 idle memory',
      conns: quick ? 5000 : 19000,
      channels: 1000,
      settle: 3,
      variants: [...sb('ws', 'sse'), ['seed', 'ws'], ['socketio', 'ws'],
        ['nchan', 'ws'], ['nchan', 'sse'], ['nchan-redis', 'ws']],
    },
    w4: {
      title: 'W4 latency',
      conns: 1000,
      channels: 10,
      rates: [50],
      timing: { settle: 1, warmup: quick ? 1 : 2, measure: quick ? 5 : 20, drain: quick ? 1 : 3 },
      variants: [...sb('ws', 'sse'), ['seed', 'ws'], ['socketio', 'ws'],
        ['nchan', 'ws'], ['nchan', 'sse'], ['nchan-redis', 'ws']],
    },
    reads: {
      title: 'Cached reads',
      hotIds: 1000,
      hotSeconds: quick ? 5 : 15,
      coldSeconds: quick ? 5 : 15,
      coldIds: 100000,
      wrkConns: 64,
      stampedeRequests: 500,
      queryMs: 50,
      hot: [...SWITCHBOARDS, 'seed-express', 'seed-http', 'seed-http-coalesce', 'varnish', 'nginx-static'],
      stampede: [...SWITCHBOARDS, 'seed-express', 'seed-http-coalesce', 'varnish'],
      cold: [...SWITCHBOARDS, 'seed-express', 'seed-http', 'seed-http-coalesce', 'varnish'],
    },
    scale: {
      title: 'Scale: three nodes, one Redis',
      nodes: 3,
      connsPerNode: quick ? 1000 : 19000,
      channelsPerNode: [1000, 100, 10],
      ratesPerNode: [200, 20, 2], // about 3,800 deliveries/s per node at 19,000 connections: all three share one core
      timing: quick ? { settle: 1, warmup: 1, measure: 3, drain: 1 } : { settle: 2, warmup: 2, measure: 10, drain: 3 },
    },
  };
}

/** Seconds one ladder step takes (settle + warm-up + measure + drain). */
export const stepSeconds = (t) => t.settle + t.warmup + t.measure + t.drain;

/**
 * A rough duration, in seconds, of the selected workloads, calibrated on
 * this machine: a live run costs ~2 s to start and stop the server, its
 * connecting, one settle and one drain, and warm-up + measure per ladder
 * step; a ladder climbs about 7 steps before its two failures.
 */
export function estimateSeconds(plan, only, servers) {
  const has = (s) => servers.includes(familyOf(s));
  const live = (w, expectSteps) => w.variants.filter(([s]) => has(s)).length *
    (2 + w.conns / 10000 + w.timing.settle + w.timing.drain +
      Math.min(w.rates.length, expectSteps) * (w.timing.warmup + w.timing.measure));
  let s = 0;
  if (only.includes('w1')) s += live(plan.w1, 7);
  if (only.includes('w2')) s += live(plan.w2, 7);
  if (only.includes('w3')) s += plan.w3.variants.filter(([x]) => has(x)).length * (2 + plan.w3.conns / 10000 + plan.w3.settle);
  if (only.includes('w4')) s += live(plan.w4, 1);
  if (only.includes('reads')) {
    const r = plan.reads;
    s += r.hot.filter(has).length * (2 + r.hotSeconds) + r.stampede.filter(has).length * 2 +
      r.cold.filter(has).length * (1 + r.coldSeconds);
  }
  if (only.includes('scale') && has('switchboard')) s += 10 + plan.scale.connsPerNode / 2000 + stepSeconds(plan.scale.timing);
  return Math.round(s);
}
