// loadgen — runs the C++ load generator (build/bench/sb_loadgen) on the load
// core and collects the JSON records it prints, one per stdout line.
// Owns: its command line, its time limit, and parsing its output.
// Must never: treat a line that is not JSON as a record (kept apart, for the
// error message), or let a hung load generator stall the whole run.
import path from 'node:path';
import { start, stop, pinned, LOAD_CPU } from './proc.mjs';

/**
 * Where the load generator is: --loadgen=PATH, SB_LOADGEN, else
 * $SB_BUILD_DIR/bench/sb_loadgen. With fake, the stand-in of fake_loadgen.mjs.
 */
export function loadgenCommand({ binary, fake, buildDir }) {
  if (fake) {
    return { cmd: process.execPath, pre: [path.join(path.dirname(new URL(import.meta.url).pathname), 'fake_loadgen.mjs')] };
  }
  return { cmd: binary || process.env.SB_LOADGEN || path.join(buildDir, 'bench/sb_loadgen'), pre: [] };
}

/** Turns { key: value } into --key=value flags (arrays joined by commas; null/undefined skipped). */
export function flags(obj) {
  const out = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null || v === false) continue;
    out.push(`--${k}=${Array.isArray(v) ? v.join(',') : v}`);
  }
  return out;
}

/** A generous upper bound of how long a run may take, in ms. */
export function timeLimitMs(o) {
  const step = (o.settle ?? 1) + (o.warmup ?? 2) + (o.measure ?? 8) + (o.drain ?? 3);
  const steps = o.mode === 'live' ? (o.rates?.length ?? 1) : 1;
  const connect = 30 + (o.conns ?? 1000) / 500;
  return (connect + steps * (step + 5) + 60) * 1000;
}

/**
 * Runs the load generator with options o (see the CLI in bench/README.md).
 * onRecord(rec) is called for each record as it arrives. Resolves
 * { code, records, stderr, unparsed, timedOut, argv }.
 */
export async function runLoadgen(lg, o, { onRecord, verbose } = {}) {
  const argv = flags(o);
  const { cmd, args } = pinned(LOAD_CPU, lg.cmd, [...lg.pre, ...argv]);
  const records = [];
  const unparsed = [];
  const proc = start(cmd, args, {
    name: 'sb_loadgen',
    onStdoutLine: (line) => {
      if (!line.trim()) return;
      let rec;
      try { rec = JSON.parse(line); } catch { unparsed.push(line); return; }
      if (rec === null || typeof rec !== 'object') { unparsed.push(line); return; }
      records.push(rec);
      onRecord?.(rec);
    },
    onStderrLine: verbose ? (l) => process.stderr.write(`    loadgen: ${l}\n`) : undefined,
  });
  let timedOut = false;
  const limit = timeLimitMs(o);
  const timer = setTimeout(() => {
    timedOut = true;
    stop(proc, { sig: 'SIGINT', graceMs: 3000 });
  }, limit);
  let code = await proc.exited;
  clearTimeout(timer);
  if (timedOut) code = 124;
  return {
    code, records, unparsed, timedOut, stderr: proc.err.slice(-4000),
    argv: ['sb_loadgen', ...argv],
  };
}
