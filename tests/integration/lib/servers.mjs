// servers — private Redis and PostgreSQL servers for the tests that take a
// dependency down (stop it, watch the node, start it again on the same port).
// Owns: the redis-server and postgres processes it spawns and their temp
// folders; each is stopped (and its folder removed) after the test file.
// Never: touches the suite's servers (SB_REDIS_URL / SB_DATABASE_URL), kills
// anything but the pid it spawned, listens on anything but 127.0.0.1, or
// sleeps blindly (it waits for conditions with a deadline).
import { spawn, execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, mkdirSync, readFileSync, existsSync, readdirSync, rmSync, chmodSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { waitFor, onCleanup, redisAt, sql } from './harness.mjs';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Runs `launch(port)` on a free port and resolves with the port; tries
 * again (three times in all) when another process took the port between
 * freePort() and the server's bind.
 */
async function launchOnFreePort(launch) {
  for (let attempt = 1; ; attempt++) {
    const candidate = await freePort();
    try {
      await launch(candidate);
      return candidate;
    } catch (e) {
      if (attempt >= 3 || !/could not bind|address already in use/i.test(e.message)) throw e;
    }
  }
}

/** Spawns `cmd`, collecting its output; resolves `exited` with {code, signal}. */
export function spawnLogged(cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let logs = '';
  const keep = (d) => {
    logs += d;
    if (logs.length > 200000) logs = logs.slice(-100000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, get logs() { return logs; } };
}

const running = (child) => child && child.exitCode === null && child.signalCode === null;

/** Sends `signal` to our child and waits for it to exit (SIGKILL after `ms`). */
async function stopChild(proc, signal, ms) {
  if (!proc || !running(proc.child)) return;
  proc.child.kill(signal);
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  if ((await Promise.race([proc.exited, late])) === 'late') {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  clearTimeout(timer);
}

// Should the test process end without running after() (a crash, a signal):
// stop our children, wait briefly (synchronously: no event loop is left) until
// they are gone, then remove our folders.
const children = new Set();
const folders = new Set();
function goneSync(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z'; // exited, not yet reaped
}
process.on('exit', () => {
  const pids = [];
  for (const { proc, signal } of children)
    if (running(proc.child)) {
      proc.child.kill(signal);
      pids.push(proc.child.pid);
    }
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 5000;
  while (pids.some((pid) => !goneSync(pid)) && Date.now() < deadline) Atomics.wait(nap, 0, 0, 20);
  if (pids.every(goneSync)) for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts a private redis-server on a free loopback port and waits until it
 * answers PING (and is ours: INFO's process_id is our child's pid).
 * Resolves with {url, port, stop(), kill(), start(), restart()}: start()
 * starts it again on the same port after stop() or kill(); restart() does
 * both. Without `persistent` it comes back empty, or as of its last `SAVE`
 * (a crash that lost what came after); with it, everything acknowledged
 * before the stop is kept (AOF, fsync on every write). Stopped after the
 * test file.
 */
export async function startRedis({ persistent = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-redis-'));
  folders.add(dir);
  let proc = null;
  let port = null;

  async function launch(onPort) {
    proc = spawnLogged('redis-server', [
      '--port', String(onPort), '--bind', '127.0.0.1', '--save', '',
      ...(persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
      '--dir', dir, '--daemonize', 'no',
    ]);
    const entry = { proc, signal: 'SIGTERM' };
    children.add(entry);
    proc.exited.then(() => children.delete(entry));
    const url = `redis://127.0.0.1:${onPort}`;
    try {
      await waitFor(
        () => {
          if (!running(proc.child)) throw new Error(`redis-server exited:\n${proc.logs}`);
          try {
            return new RegExp(`^process_id:${proc.child.pid}\\r?$`, 'm').test(redisAt(url, 'INFO', 'server'));
          } catch {
            return false; // not listening yet
          }
        },
        { ms: 20000, what: `redis-server on port ${onPort} to answer` },
      );
    } catch (e) {
      await stopChild(proc, 'SIGTERM', 5000);
      throw e;
    }
  }

  port = await launchOnFreePort(launch);

  const server = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get logs() { return proc.logs; },
    get running() { return running(proc.child); },
    /** Stops redis-server (SIGTERM) and waits until it has exited. */
    async stop() {
      await stopChild(proc, 'SIGTERM', 10000);
    },
    /** Kills redis-server (SIGKILL: nothing is flushed) and waits until it has exited. */
    async kill() {
      await stopChild(proc, 'SIGKILL', 10000);
    },
    /** Starts it again on the same port after stop(); waits for PING. */
    async start() {
      await launch(port);
    },
    /** Stops it and starts it again on the same port; waits for PING. */
    async restart() {
      await stopChild(proc, 'SIGTERM', 10000);
      await launch(port);
    },
  };
  onCleanup(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    folders.delete(dir);
  });
  return server;
}

/** The folder with initdb/postgres: SB_PG_BIN, else PostgreSQL 15, else the newest installed. */
function pgBinDir() {
  if (process.env.SB_PG_BIN) return process.env.SB_PG_BIN;
  if (existsSync('/usr/lib/postgresql/15/bin/postgres')) return '/usr/lib/postgresql/15/bin';
  const versions = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql').filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/postgres`))
    : [];
  versions.sort((a, b) => Number(a) - Number(b));
  if (!versions.length) throw new Error('PostgreSQL server binaries not found (set SB_PG_BIN)');
  return `/usr/lib/postgresql/${versions.at(-1)}/bin`;
}

/**
 * Starts a private PostgreSQL (as the `postgres` user when we are root) on a
 * free loopback port, creates the database `switchboard`, applies the schema
 * with `$SB_BINARY --migrate-only`, and inserts one user and two published
 * books. Resolves with {url, port, userId, bookIds, sql(query), stop(),
 * start()}: stop() is a fast shutdown (SIGINT to the postmaster, waits for it
 * to exit); start() starts it again on the same port and data folder.
 * Stopped, and its folder removed, after the test file.
 */
export async function startPostgres() {
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'sb-pg-'));
  folders.add(dir);
  chmodSync(dir, 0o755); // the postgres user must reach the folders inside
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  mkdirSync(data, { mode: 0o700 });
  mkdirSync(sock, { mode: 0o755 });
  let runas = [];
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    for (const d of [dir, data, sock]) chownSync(d, uid, gid);
    // setpriv execs: the pid we spawn is the postmaster itself.
    runas = ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'];
  }
  const as = (cmd, args) => (runas.length ? [runas[0], [...runas.slice(1), cmd, ...args]] : [cmd, args]);

  const [initCmd, initArgs] = as(`${bin}/initdb`, [
    '-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync',
  ]);
  try {
    await run(initCmd, initArgs, { cwd: '/', timeout: 120000 });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    folders.delete(dir);
    throw new Error(`initdb failed: ${e.stderr || e.message}`);
  }

  let proc = null;
  let port = null;

  // Ready once postmaster.pid names our child, our port and status "ready".
  function ready(onPort) {
    let lines;
    try {
      lines = readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n');
    } catch {
      return false;
    }
    return lines.length >= 8 && lines[0] === String(proc.child.pid) && lines[3] === String(onPort) && /^\s*ready/.test(lines[7]);
  }

  async function launch(onPort) {
    const [cmd, args] = as(`${bin}/postgres`, [
      '-D', data, '-k', sock, '-h', '127.0.0.1', '-p', String(onPort), '-c', 'fsync=off',
      '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    ]);
    proc = spawnLogged(cmd, args, { cwd: '/' });
    // SIGINT is PostgreSQL's fast shutdown: it does not wait for clients.
    const entry = { proc, signal: 'SIGINT' };
    children.add(entry);
    proc.exited.then(() => children.delete(entry));
    try {
      await waitFor(
        () => {
          if (!running(proc.child)) throw new Error(`postgres exited:\n${proc.logs}`);
          return ready(onPort);
        },
        { ms: 60000, every: 50, what: `postgres on port ${onPort} to be ready` },
      );
    } catch (e) {
      await stopChild(proc, 'SIGINT', 10000);
      throw e;
    }
  }

  const stopAndRemove = async () => {
    await stopChild(proc, 'SIGINT', 30000);
    rmSync(dir, { recursive: true, force: true });
    folders.delete(dir);
  };
  onCleanup(stopAndRemove);

  port = await launchOnFreePort(launch);

  const admin = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const url = `postgresql://postgres@127.0.0.1:${port}/switchboard`;
  sql('CREATE DATABASE switchboard', admin);
  try {
    await run(
      process.env.SB_BINARY,
      ['--config=' + join(process.env.SB_SOURCE_DIR, 'config/switchboard.ini'), '--migrate-only'],
      { env: { ...process.env, SB_DATABASE_URL: url, SB_LOG_LEVEL: 'warn' }, timeout: 60000 },
    );
  } catch (e) {
    throw new Error(`switchboard --migrate-only on the private PostgreSQL failed: ${e.stderr || e.message}`);
  }
  const userId = Number(
    sql(`INSERT INTO users (username, password_hash, display_name) VALUES ('pg_author', 'x', 'PG Author') RETURNING id`, url),
  );
  const bookIds = sql(
    `INSERT INTO books (author_id, title, description, published)
     VALUES (${userId}, 'Outage book one', 'first', true), (${userId}, 'Outage book two', 'second', true)
     RETURNING id`,
    url,
  )
    .split('\n')
    .map(Number);

  return {
    url,
    port,
    userId,
    bookIds,
    get logs() { return proc.logs; },
    get running() { return running(proc.child); },
    /** Runs SQL on this server's switchboard database (it must be up). */
    sql: (query) => sql(query, url),
    /** Fast shutdown: SIGINT to the postmaster, then waits for it to exit. */
    async stop() {
      await stopChild(proc, 'SIGINT', 30000);
    },
    /** Starts it again on the same port and data folder; waits until ready. */
    async start() {
      if (running(proc.child)) return;
      await launch(port);
    },
  };
}
