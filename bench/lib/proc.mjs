// proc — starting, watching and stopping the processes the benchmark runs.
// Owns: every child process the driver starts (servers, wrk, the load
// generator), each in its own process group, and stopping them all when the
// driver exits, however it exits.
// Must never: signal a process it did not start, or leave one running.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';

const started = new Set(); // child processes still running

export const SERVER_CPU = process.env.SB_BENCH_SERVER_CPU ?? '1';
export const LOAD_CPU = process.env.SB_BENCH_LOAD_CPU ?? '0';

/** Prefixes a command with `taskset -c CPU` (taskset execs: the pid is the command's). */
export function pinned(cpu, cmd, args) {
  return { cmd: 'taskset', args: ['-c', String(cpu), cmd, ...args] };
}

/**
 * Starts cmd in its own process group. Returns { child, pid, out, err, exited }:
 * out/err accumulate the last 64 KiB of output, exited resolves to the exit code.
 */
export function start(cmd, args, { env = process.env, cwd, onStdoutLine, onStderrLine, name } = {}) {
  const child = spawn(cmd, args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const rec = { child, pid: child.pid, name: name ?? cmd, out: '', err: '' };
  started.add(child);
  const lines = (stream, key, cb) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      rec[key] = (rec[key] + d).slice(-65536);
      if (!cb) return;
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        cb(line);
      }
    });
    stream.on('end', () => { if (cb && buf) cb(buf); });
  };
  lines(child.stdout, 'out', onStdoutLine);
  lines(child.stderr, 'err', onStderrLine);
  rec.exited = new Promise((resolve) => {
    child.on('error', (e) => { rec.err += `\nspawn error: ${e.message}`; started.delete(child); resolve(127); });
    child.on('exit', (code, sig) => { started.delete(child); resolve(code ?? (sig ? 128 : 1)); });
  });
  rec.alive = () => started.has(child);
  return rec;
}

/** Runs a command to completion; resolves { code, out, err }. */
export async function run(cmd, args, opts = {}) {
  const p = start(cmd, args, opts);
  const code = await p.exited;
  return { code, out: p.out, err: p.err };
}

/** Stops a started process group: SIGTERM (or sig), then SIGKILL after graceMs. */
export async function stop(rec, { sig = 'SIGTERM', graceMs = 10000 } = {}) {
  if (!rec || !rec.alive()) return;
  const group = (s) => { try { process.kill(-rec.pid, s); } catch { /* gone */ } };
  group(sig);
  const t = setTimeout(() => group('SIGKILL'), graceMs);
  await rec.exited;
  clearTimeout(t);
  group('SIGKILL'); // stray members of the group (an nginx worker, varnish's child)
}

/** Kills everything still running (exit paths). Synchronous. */
export function killAll() {
  for (const c of started) {
    try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  started.clear();
}

let cleanupInstalled = false;
export function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAll);
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping the servers\n`);
      killAll();
      process.exit(code);
    });
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port nothing listens on right now (bind port 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once 127.0.0.1:port accepts a TCP connection; throws after ms. */
export async function waitPort(port, { ms = 20000, proc } = {}) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc && !proc.alive()) throw new Error(`${proc.name} exited before listening on ${port}\n${tail(proc)}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on port ${port} after ${ms} ms${proc ? `\n${tail(proc)}` : ''}`);
}

/** Polls an HTTP URL until it answers `status`; throws after ms. */
export async function waitHttp(url, { status = 200, ms = 30000, proc } = {}) {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    if (proc && !proc.alive()) throw new Error(`${proc.name} exited while waiting for ${url}\n${tail(proc)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === status) return;
      last = `status ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer ${status} within ${ms} ms (${last})${proc ? `\n${tail(proc)}` : ''}`);
}

/** The last lines a process wrote, for error messages. */
export function tail(proc, n = 15) {
  const lines = `${proc.out}\n${proc.err}`.trim().split('\n');
  return lines.slice(-n).map((l) => `  | ${l}`).join('\n');
}

/** Pids of pid's direct children (from /proc/<pid>/task/<pid>/children, else a /proc scan). */
export function childrenOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (s) return s.split(/\s+/).map(Number);
  } catch { /* not available: scan */ }
  const kids = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(d));
    } catch { /* gone */ }
  }
  return kids;
}

/** The command name (comm) of a pid, or ''. */
export function comm(pid) {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; }
}

/** Resident set size of pid in bytes (VmRSS), or 0. */
export function rssBytes(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) * 1024 : 0;
  } catch { return 0; }
}

/** CPU seconds (utime + stime) pid has used so far, or NaN (clock ticks of 100 Hz, Linux's USER_HZ). */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch { return NaN; }
}
