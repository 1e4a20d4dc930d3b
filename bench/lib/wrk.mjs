// wrk — runs wrk (Debian's 4.1) on the load core and parses its summary.
// Owns: wrk's command line for the read workloads and the parse of its text
// output (requests/s, latency percentiles, errors, the script's own lines).
// Must never: report a run whose output it could not parse as a figure.
import path from 'node:path';
import { run, pinned, LOAD_CPU } from './proc.mjs';

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60000 };
const toMs = (v, unit) => Number(v) * (UNIT_MS[unit] ?? NaN);

/** Parses wrk --latency output (plus the lines a script's done() writes). */
export function parseWrk(text) {
  const r = { ok: false };
  const num = (re) => { const m = text.match(re); return m ? Number(m[1]) : undefined; };
  r.requests_per_s = num(/Requests\/sec:\s+([\d.]+)/);
  const total = text.match(/(\d+) requests in ([\d.]+)(\w+),/);
  if (total) { r.requests = Number(total[1]); r.seconds = toMs(total[2], total[3]) / 1000; }
  for (const p of ['50', '75', '90', '99']) {
    const m = text.match(new RegExp(`^\\s+${p}(?:\\.000)?%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm'));
    if (m) r[`p${p}_ms`] = toMs(m[1], m[2]);
  }
  const lat = text.match(/Latency\s+([\d.]+)(us|ms|s|m)\s+([\d.]+)(us|ms|s|m)\s+([\d.]+)(us|ms|s|m)/);
  if (lat) { r.mean_ms = toMs(lat[1], lat[2]); r.max_ms = toMs(lat[5], lat[6]); }
  r.non_2xx = num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0;
  const se = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  r.socket_errors = se ? se.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  r.distinct_keys = num(/^distinct_keys (\d+)/m);
  r.requested = num(/^requested (\d+)/m);
  r.ok = Number.isFinite(r.requests_per_s);
  return r;
}

/**
 * wrk -t1 -cC -dDs --latency -s SCRIPT http://127.0.0.1:PORT, with env for
 * the script. Resolves the parsed summary plus argv and the raw text.
 */
export async function runWrk({ port, script, seconds, conns = 64, threads = 1, env = {}, root }) {
  const argv = [`-t${threads}`, `-c${conns}`, `-d${seconds}s`, '--latency', '-s',
    path.join(root, 'bench/wrk', script), `http://127.0.0.1:${port}`];
  const { cmd, args } = pinned(LOAD_CPU, 'wrk', argv);
  const res = await run(cmd, args, { env: { ...process.env, ...env }, name: 'wrk' });
  const parsed = parseWrk(res.out);
  return {
    ...parsed, code: res.code, argv: ['wrk', ...argv],
    env, raw: res.out.slice(-3000), stderr: res.err.slice(-1000),
  };
}
