// servers — how each server under test is started on the server core and
// stopped: Switchboard itself and the peers of bench/peers (see its README).
// Owns: the command line and environment of every server, which pid does the
// work (the one whose CPU and RSS count), and the wait until it serves.
// Must never: start a server anywhere but 127.0.0.1, or on the load core
// (except Switchboard's unpinned runs, which measure exactly that).
import { chmodSync, readFileSync, writeFileSync, existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  start, stop, pinned, SERVER_CPU, freePort, waitPort, waitHttp, childrenOf, comm, tail, sleep,
} from './proc.mjs';

/**
 * ctx: { root, buildDir, redisUrl, databaseUrl, tmp } (tmp: a scratch folder).
 * Every start* resolves to a handle:
 *   { name, target, port, pid (the working process), procs: [...], stop() }
 * target is the load generator's --target adapter for the live servers.
 */

// ---------------------------------------------------------------- switchboard

export const API_KEY = 'benchkey';
export const ADMIN_KEY = 'benchadmin';

/** Every core of the machine, as taskset names them: an unpinned server's CPUs. */
export const ALL_CPUS = `0-${os.cpus().length - 1}`;

/**
 * Switchboard with `io_threads` event loops (default one: its sockets and
 * actors on one thread), on `cpus` (default the server core; ALL_CPUS for
 * the unpinned runs, which share the load core with the load generator).
 */
export async function startSwitchboard(ctx, { env: extra = {}, name = 'switchboard', ioThreads = 1, cpus = SERVER_CPU } = {}) {
  const dir = mkdtempSync(path.join(ctx.tmp, 'sb-'));
  const portFile = path.join(dir, 'port');
  const env = {
    ...process.env,
    SB_HTTP_HOST: '127.0.0.1',
    SB_HTTP_PORT: '0',
    SB_PORT_FILE: portFile,
    SB_REDIS_URL: ctx.redisUrl,
    SB_DATABASE_URL: ctx.databaseUrl,
    SB_API_KEY: API_KEY,
    SB_ADMIN_KEY: ADMIN_KEY,
    SB_MAX_CONNECTIONS: '19500',
    SB_MAX_CONNECTIONS_PER_IP: '0',
    SB_ANON_REQUESTS_PER_IP: '0',
    SB_ANON_SUBSCRIPTIONS_PER_IP: '0',
    SB_IO_THREADS: String(ioThreads),
    SB_REQUESTS_PER_TOKEN_PER_S: '0',
    SB_MIGRATE_ON_START: 'false',
    SB_WEB_ROOT: '',
    SB_LOG_LEVEL: process.env.SB_BENCH_LOG_LEVEL ?? 'warn',
    SB_SHUTDOWN_GRACE_MS: '1000',
    ...extra,
  };
  const bin = path.join(ctx.buildDir, 'switchboard');
  const { cmd, args } = pinned(cpus, bin, []);
  const proc = start(cmd, args, { env, cwd: ctx.root, name });
  const end = Date.now() + 30000;
  let port = 0;
  while (!port) {
    if (!proc.alive()) throw new Error(`${name} exited at start\n${tail(proc)}`);
    if (Date.now() > end) { await stop(proc); throw new Error(`${name} wrote no port file\n${tail(proc)}`); }
    try { port = Number(readFileSync(portFile, 'utf8').trim()) || 0; } catch { /* not yet */ }
    if (!port) await sleep(50);
  }
  try {
    await waitHttp(`http://127.0.0.1:${port}/readyz`, { proc });
  } catch (e) {
    await stop(proc);
    throw e;
  }
  return {
    name, target: 'switchboard', port, pid: proc.pid, procs: [proc],
    stop: () => stop(proc, { graceMs: 10000 }),
  };
}

// ------------------------------------------------------------- the Node peers

/**
 * A Node peer from bench/peers: env PORT (0 = any), HOST, REDIS_URL,
 * DATABASE_URL; it prints `ready <port>` on stdout once listening.
 */
export async function startNodePeer(ctx, script, { env: extra = {}, name, target } = {}) {
  const file = path.join(ctx.root, 'bench/peers', script);
  if (!existsSync(file)) throw new Error(`peer ${script} is missing (bench/peers/${script})`);
  let ready;
  const readyP = new Promise((resolve) => { ready = resolve; });
  const env = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: ctx.redisUrl,
    DATABASE_URL: ctx.databaseUrl,
    NODE_ENV: 'production',
    ...extra,
  };
  const { cmd, args } = pinned(SERVER_CPU, process.execPath, [file]);
  const proc = start(cmd, args, {
    env, cwd: path.join(ctx.root, 'bench/peers'), name: name ?? script,
    onStdoutLine: (l) => { const m = l.match(/^ready (\d+)/); if (m) ready(Number(m[1])); },
  });
  const port = await Promise.race([
    readyP,
    proc.exited.then(() => 0),
    sleep(30000).then(() => -1),
  ]);
  if (port <= 0) {
    await stop(proc);
    throw new Error(`${name ?? script} did not print "ready <port>"\n${tail(proc)}`);
  }
  return {
    name: name ?? script, target, port, pid: proc.pid, procs: [proc],
    stop: () => stop(proc, { graceMs: 5000 }),
  };
}

// ------------------------------------------------------------ nginx, varnish

/** Replaces the @NAME@ placeholders of a bench/peers template (what its README's sed does). */
export function render(template, vars) {
  let s = template;
  for (const [k, v] of Object.entries(vars)) s = s.split(`@${k}@`).join(String(v));
  const left = s.match(/@[A-Z_]+@/);
  if (left) throw new Error(`template placeholder ${left[0]} has no value`);
  return s;
}

function template(ctx, file) {
  const f = path.join(ctx.root, 'bench/peers', file);
  if (!existsSync(f)) throw new Error(`peer template bench/peers/${file} is missing`);
  return readFileSync(f, 'utf8');
}

/** Polls fn until it returns a truthy value; throws after ms. */
async function until(fn, ms, what, proc) {
  const end = Date.now() + ms;
  for (;;) {
    if (proc && !proc.alive()) throw new Error(`${proc.name} exited\n${tail(proc)}`);
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what} not found within ${ms} ms`);
    await sleep(50);
  }
}

/**
 * nginx with one worker (bench/peers/nginx/<kind>.conf.template), pinned to
 * the server core; the handle's pid is the worker's. kind: 'nchan' (memory
 * store), 'nchan-redis', 'static' (opts.staticRoot holds api/books/<id>).
 */
export async function startNginx(ctx, kind, { staticRoot } = {}) {
  const dir = mkdtempSync(path.join(ctx.tmp, `nginx-${kind}-`));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, render(template(ctx, `nginx/${kind}.conf.template`), {
    PORT: port, RUNDIR: dir, REDIS_URL: ctx.redisUrl, STATIC_ROOT: staticRoot ?? '/nonexistent',
  }));
  // daemon off, the pid file and the error log are in the template.
  const { cmd, args } = pinned(SERVER_CPU, 'nginx', ['-e', path.join(dir, 'error.log'), '-p', dir, '-c', conf]);
  const proc = start(cmd, args, { name: `nginx(${kind})` });
  const errorLog = () => { try { return readFileSync(path.join(dir, 'error.log'), 'utf8').slice(-2000); } catch { return ''; } };
  let worker;
  try {
    await waitPort(port, { proc });
    worker = await until(() => childrenOf(proc.pid).find((k) => comm(k).startsWith('nginx')), 10000,
      `the worker of nginx ${proc.pid}`, proc);
  } catch (e) {
    await stop(proc);
    throw new Error(`${e.message}\n${errorLog()}`);
  }
  return {
    name: kind, target: 'nchan', port, pid: worker, masterPid: proc.pid, procs: [proc],
    stop: () => stop(proc, { sig: 'SIGTERM', graceMs: 5000 }),
  };
}

/** Varnish in front of a backend on backendPort; the handle's pid is its cache child. */
export async function startVarnish(ctx, backendPort) {
  const dir = mkdtempSync(path.join(ctx.tmp, 'varnish-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const vcl = path.join(dir, 'default.vcl');
  writeFileSync(vcl, render(template(ctx, 'varnish/default.vcl.template'), { BACKEND_PORT: backendPort }));
  const { cmd, args } = pinned(SERVER_CPU, 'varnishd', [
    '-F', '-j', 'none', '-n', path.join(dir, 'work'), '-a', `127.0.0.1:${port}`, '-f', vcl,
    '-s', 'malloc,256m', '-p', 'thread_pools=1', '-p', 'thread_pool_min=50', '-p', 'thread_pool_max=1000',
  ]);
  const proc = start(cmd, args, { name: 'varnishd' });
  let child;
  try {
    await waitPort(port, { proc, ms: 30000 });
    child = await until(() => childrenOf(proc.pid).find((k) => comm(k) === 'cache-main') ?? null, 10000,
      `the cache child of varnishd ${proc.pid}`, proc);
  } catch (e) {
    await stop(proc);
    throw e;
  }
  return {
    name: 'varnish', port, pid: child, managerPid: proc.pid, procs: [proc],
    stop: () => stop(proc, { graceMs: 5000 }),
  };
}

// ------------------------------------------------------------ the catalogue

/**
 * Switchboard as each run starts it: pinned to the server core with one
 * loop (the runs the peers are compared with), unpinned with one loop, and
 * unpinned with two loops (issue 17: the loops add capacity, they do not fight).
 */
const SWITCHBOARD_VARIANTS = {
  switchboard: (ctx) => startSwitchboard(ctx),
  'switchboard-unpinned': (ctx) => startSwitchboard(ctx, { name: 'switchboard-unpinned', cpus: ALL_CPUS }),
  'switchboard-2loops': (ctx) => startSwitchboard(ctx, { name: 'switchboard-2loops', cpus: ALL_CPUS, ioThreads: 2 }),
};

/**
 * Live servers by name: start(ctx) → handle. The load generator's adapter is
 * handle.target; the transport is chosen per step.
 */
export const LIVE = {
  ...SWITCHBOARD_VARIANTS,
  seed: (ctx) => startNodePeer(ctx, 'seed_live.mjs', { name: 'seed', target: 'seed' }),
  socketio: (ctx) => startNodePeer(ctx, 'socketio_server.mjs', { name: 'socketio', target: 'socketio' }),
  nchan: (ctx) => startNginx(ctx, 'nchan'),
  'nchan-redis': (ctx) => startNginx(ctx, 'nchan-redis'),
};

/** Read servers by name (Varnish starts its backend too). */
export const READ = {
  ...SWITCHBOARD_VARIANTS,
  'seed-express': (ctx) => startNodePeer(ctx, 'seed_read.mjs',
    { name: 'seed-express', env: { FRAMEWORK: 'express' } }),
  'seed-http': (ctx) => startNodePeer(ctx, 'seed_read.mjs',
    { name: 'seed-http', env: { FRAMEWORK: 'http' } }),
  'seed-http-coalesce': (ctx) => startNodePeer(ctx, 'seed_read.mjs',
    { name: 'seed-http-coalesce', env: { FRAMEWORK: 'http', COALESCE: '1' } }),
  varnish: async (ctx) => {
    const backend = await startNodePeer(ctx, 'seed_read.mjs',
      { name: 'seed-http (varnish backend)', env: { FRAMEWORK: 'http' } });
    try {
      const v = await startVarnish(ctx, backend.port);
      return { ...v, procs: [...v.procs, ...backend.procs],
        stop: async () => { await v.stop(); await backend.stop(); } };
    } catch (e) {
      await backend.stop();
      throw e;
    }
  },
  'nginx-static': (ctx, opts) => startNginx(ctx, 'static', opts),
};

/** The book path each read server serves (the seed's read server may differ: see its README). */
export function bookPath(server, id) {
  return `/api/books/${id}`;
}
