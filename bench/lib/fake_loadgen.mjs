#!/usr/bin/env node
// fake_loadgen — a stand-in for build/bench/sb_loadgen that takes the same
// flags and prints records of the same shape with made-up figures, quickly.
// It exists to test the driver's and the report's plumbing without the real
// load generator (`node bench/driver.mjs --fake-loadgen`). It opens no
// connection; only `idle` reads the real RSS of --server-pid.
// Owns: nothing but its output. Never used for a published figure: the
// results of a fake run say so (`fake_loadgen: true`).
import { readFileSync } from 'node:fs';

const o = { mode: 'live', target: 'switchboard', transport: 'ws', conns: 1000, channels: 1, rates: '10', 'stop-after-failures': 2, measure: 8 };
for (const a of process.argv.slice(2)) {
  const m = a.match(/^--([^=]+)=(.*)$/);
  if (!m) { process.stderr.write(`fake_loadgen: bad argument ${a}\n`); process.exit(2); }
  o[m[1]] = m[2];
}
const out = (r) => process.stdout.write(`${JSON.stringify(r)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rss = (pid) => {
  try { return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) * 1024; } catch { return 0; }
};
// Deliveries per second each made-up server sustains, and µs of CPU per delivery.
const cap = { switchboard: [150000, 3.2], seed: [65000, 11.9], socketio: [45000, 16.1], nchan: [96000, 8.6] }[o.target] ?? [50000, 10];
if (o.transport === 'sse') { cap[0] *= 0.85; cap[1] *= 1.15; }
const conns = Number(o.conns);
const channels = Number(o.channels);

if (o.mode === 'stampede') {
  await sleep(100);
  const n = Number(o.requests ?? 500);
  const t = { switchboard: 58, seed: 2700, nchan: 130 }[o.target] ?? 300;
  out({ kind: 'stampede', requests: n, ok: n, statuses: { 200: n }, all_answered_ms: t, p50_ms: t * 0.9, p99_ms: t * 0.99 });
  process.exit(0);
}
await sleep(200);
out({ kind: 'connected', conns, up: conns, seconds: conns / 20000 });
if (o.mode === 'idle') {
  const before = rss(o['server-pid']);
  const per = { switchboard: 3500, seed: 4960, socketio: 13366, nchan: 10440 }[o.target] ?? 8000;
  out({ kind: 'idle', conns, up: conns, rss_before: before, rss_after: before + per * conns, bytes_per_conn: per });
  process.exit(0);
}
let fails = 0;
for (const rate of o.rates.split(',').map(Number)) {
  await sleep(150);
  const perMsg = conns / channels;
  const d = rate * perMsg;
  const load = d / cap[0];
  const pass = load <= 1;
  const measure = Number(o.measure);
  const expected = Math.round(d * measure);
  const received = pass ? expected : Math.round(expected * 0.97);
  const p50 = 0.4 + 0.8 * load * load;
  const cpu = Math.min(1, load) * measure;
  out({
    kind: 'step', rate, conns_up: conns, published: Math.round(rate * measure), publish_errors: 0,
    expected, received, lost: expected - received, deliveries_per_s: received / measure,
    p50_ms: p50, p90_ms: p50 * 1.8, p99_ms: pass ? p50 * 3 : 450, p999_ms: pass ? p50 * 5 : 900,
    max_ms: pass ? p50 * 8 : 1500, server_cpu_s: cpu,
    cpu_us_per_delivery: cap[1] * (1 + 0.1 * load), cpu_us_per_message: cap[1] * (1 + 0.1 * load) * perMsg + (channels > 1 ? 8 : 0),
    server_rss_bytes: rss(o['server-pid']), pass,
  });
  fails = pass ? 0 : fails + 1;
  if (fails >= Number(o['stop-after-failures'])) break;
}
