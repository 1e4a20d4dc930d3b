// harness — starts real switchboard nodes for integration tests and gives
// tests the means to look at the real PostgreSQL and Redis behind them.
// Owns: node processes it starts (stopped after each test file), temp dirs.
// Never: mocks a dependency, sleeps blindly (it waits for conditions with a
// deadline), or touches servers other than those in SB_DATABASE_URL /
// SB_REDIS_URL.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { after } from 'node:test';

export const ADMIN_KEY = 'test-admin-key';
export const API_KEY = 'test-api-key';

const binary = process.env.SB_BINARY;
if (!binary) throw new Error('SB_BINARY is not set (run through ctest)');
for (const v of ['SB_DATABASE_URL', 'SB_REDIS_URL'])
  if (!process.env[v]) throw new Error(`${v} is not set (run through scripts/test)`);

/** Waits until `check()` returns a truthy value, or fails after `ms`. */
export async function waitFor(check, { ms = 10000, every = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

const started = new Set();
after(async () => {
  await Promise.all([...started].map((n) => n.stop()));
});

let counter = 0;
/** A key prefix no other test uses: each test file gets a cold cache. */
export function uniquePrefix(name) {
  return `t${process.pid}_${name}_${Date.now()}_${counter++}:`;
}

/**
 * Starts a node on a free port; resolves once /readyz says 200.
 * `env` adds SB_* settings (e.g. SB_REDIS_KEY_PREFIX). With `ready: false`
 * it waits only for /healthz (for tests of a node whose dependencies are down).
 */
export async function startNode({ env = {}, name = 'node', ready = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-node-'));
  const portFile = join(dir, 'port');
  const child = spawn(binary, ['--config=' + join(process.env.SB_SOURCE_DIR, 'config/switchboard.ini')], {
    env: {
      ...process.env,
      SB_HTTP_HOST: '127.0.0.1',
      SB_HTTP_PORT: '0',
      SB_PORT_FILE: portFile,
      SB_NODE_ID: `${name}-${process.pid}-${counter++}`,
      SB_ADMIN_KEY: ADMIN_KEY,
      SB_API_KEY: API_KEY,
      SB_LOG_LEVEL: 'warn',
      SB_MIGRATE_ON_START: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stdout.on('data', (d) => (logs += d));
  child.stderr.on('data', (d) => (logs += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const node = {
    child,
    exited,
    get logs() { return logs; },
    url: null,
    port: null,
    async stop() {
      started.delete(node);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const result = await exited;
      rmSync(dir, { recursive: true, force: true });
      return result;
    },
  };
  started.add(node);
  try {
    const port = await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`node exited early:\n${logs}`);
        return existsSync(portFile) && Number(readFileSync(portFile, 'utf8').trim());
      },
      { what: 'the node to listen' },
    );
    node.port = port;
    node.url = `http://127.0.0.1:${port}`;
    const probe = ready ? '/readyz' : '/healthz';
    await waitFor(async () => (await fetch(node.url + probe)).status === 200, {
      what: `${probe} to answer 200`,
    });
  } catch (e) {
    await node.stop();
    throw new Error(`${e.message}\n--- node log ---\n${logs}`);
  }
  return node;
}

/** Runs SQL on the test PostgreSQL and returns psql's unaligned output. */
export function sql(query) {
  return execFileSync('psql', [process.env.SB_DATABASE_URL, '-v', 'ON_ERROR_STOP=1', '-Atqc', query], {
    encoding: 'utf8',
  }).trim();
}

/** Runs a redis-cli command on the test Redis. */
export function redis(...args) {
  return execFileSync('redis-cli', ['-u', process.env.SB_REDIS_URL, ...args], { encoding: 'utf8' }).trim();
}

/**
 * How many times PostgreSQL itself executed statements whose text contains
 * `fragment` (pg_stat_statements: counted by the server, not by us).
 */
export function statementCalls(fragment) {
  const escaped = fragment.replace(/'/g, "''");
  return Number(
    sql(`SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '%${escaped}%'`),
  );
}

/** Creates an author and a published book; returns the book id. */
export function createBook(title = 'Test book') {
  const author = sql(
    `INSERT INTO users (username, password_hash, display_name) VALUES ('it_${process.pid}_${Date.now()}_${counter++}', 'x', 'Author') RETURNING id`,
  );
  return Number(
    sql(`INSERT INTO books (author_id, title, published) VALUES (${author}, '${title.replace(/'/g, "''")}', true) RETURNING id`),
  );
}

/** Sends raw bytes over TCP and resolves with everything received until close. */
export function rawRequest(port, bytes, { ms = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, timedOut: true });
    }, ms);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', (e) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return;
      clearTimeout(timer);
      reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data, timedOut: false });
    });
  });
}
