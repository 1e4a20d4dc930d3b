// harness — starts real switchboard nodes for integration tests and gives
// tests the means to look at the real PostgreSQL and Redis behind them.
// Owns: node processes it starts (stopped after each test file), temp dirs,
// and the helpers tests reach them with: clusters (startCluster), API calls
// (api, register, authed, stats), cached values as the node stores them in
// Redis (valueKey, cachedValue, redisCache: the layout of
// actors/cache/cache_keys.hpp, kept in this one place; the cache may have a
// Redis of its own, SB_REDIS_CACHE_URL), rows made straight in PostgreSQL
// (createUser, createBook, createChapter). Private Redis/PostgreSQL servers live in ./servers.mjs.
// Never: mocks a dependency, sleeps blindly (it waits for conditions with a
// deadline), or touches servers other than those in SB_DATABASE_URL /
// SB_REDIS_URL / SB_REDIS_CACHE_URL and the private ones a test started itself.
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
// Stopped after every test file: nodes first (they talk to the servers),
// then whatever else registered a stop with onCleanup (private servers).
const cleanups = new Set();
after(async () => {
  await Promise.all([...started].map((n) => n.stop()));
  for (const stop of [...cleanups].reverse()) {
    cleanups.delete(stop);
    await stop();
  }
});
// Should the test process die without running after(), do not leave our own
// children behind (by pid: only processes this file spawned).
process.on('exit', () => {
  for (const n of started) {
    if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
    rmSync(n.dir, { recursive: true, force: true });
  }
});
// A signal would end the process without 'exit' handlers: make it an exit.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]])
  process.once(signal, () => process.exit(code));

/** Registers `stop` (async) to run after the test file, after the nodes stop. */
export function onCleanup(stop) {
  cleanups.add(stop);
  return () => cleanups.delete(stop);
}

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
      // The suite signs in hundreds of users from 127.0.0.1, and the auth
      // limits' counters live in the shared Redis: off unless a test sets
      // them (auth_limits, hostile_auth do).
      SB_AUTH_ATTEMPTS_PER_IP: '0',
      SB_AUTH_ATTEMPTS_PER_USER: '0',
      // Likewise hundreds of anonymous requests and subscriptions from one
      // address: the per-address bounds are off unless a test sets them
      // (anon_limits does).
      SB_ANON_REQUESTS_PER_IP: '0',
      SB_ANON_SUBSCRIPTIONS_PER_IP: '0',
      // A node pointed at another Redis keeps its cache there too, unless
      // the test names the cache's Redis itself.
      ...('SB_REDIS_URL' in env && !('SB_REDIS_CACHE_URL' in env) ? { SB_REDIS_CACHE_URL: '' } : {}),
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
    name,
    dir,
    prefix: env.SB_REDIS_KEY_PREFIX ?? null,
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
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`node exited early (${child.exitCode ?? child.signalCode}):\n${logs}`);
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

/**
 * Runs SQL on the test PostgreSQL (or on `url`) and returns psql's unaligned
 * output. Beware: pg_stat_statements normalises constants, so a SELECT ... FROM
 * books WHERE id = 5 here counts as the node's book query in statementCalls.
 */
export function sql(query, url = process.env.SB_DATABASE_URL) {
  return execFileSync('psql', [url, '-X', '-v', 'ON_ERROR_STOP=1', '-Atqc', query], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'], // stderr goes into the thrown error
  }).trim();
}

/** Runs a redis-cli command on the test Redis. */
export function redis(...args) {
  return redisAt(process.env.SB_REDIS_URL, ...args);
}

/**
 * The URL of the Redis the suite's nodes keep their cache in: its own
 * (SB_REDIS_CACHE_URL, as scripts/test starts one) or the shared one.
 */
export function cacheRedisUrl() {
  return process.env.SB_REDIS_CACHE_URL || process.env.SB_REDIS_URL;
}

/** Whether the suite's nodes have a Redis of their own for the cache. */
export const OWN_CACHE_REDIS = Boolean(process.env.SB_REDIS_CACHE_URL) &&
  process.env.SB_REDIS_CACHE_URL !== process.env.SB_REDIS_URL;

/** The redis_bridge actors a suite node runs: one per Redis it uses. */
export const REDIS_BRIDGES = OWN_CACHE_REDIS ? 2 : 1;

/** Runs a redis-cli command on the suite's cache Redis (v:, g:, m:, l: keys). */
export function redisCache(...args) {
  return redisAt(cacheRedisUrl(), ...args);
}

/** Runs a redis-cli command on the Redis at `url` (e.g. a private one). */
export function redisAt(url, ...args) {
  return execFileSync('redis-cli', ['-u', url, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The Redis key holding a cached resource's value: `<prefix>v:<kind>:<id>`. */
export function valueKey(prefix, kind, id) {
  return `${prefix}v:${kind}:${id}`;
}

/**
 * Reads a cached value from Redis (`url`, default the suite's cache Redis)
 * and splits it into its fields: `<version> <fresh_until_ms> <load_ms>
 * <json>`. Null when absent. A value in another format comes back with NaN
 * times (tests then fail on it). `version` is the group version it was
 * stored under: it counts only while that is the group's current one.
 */
export function cachedValue(key, url = cacheRedisUrl()) {
  const raw = redisAt(url, 'GET', key);
  if (raw === '') return null;
  const m = /^(\S+) (\d+) (\d+) ([\s\S]*)$/.exec(raw);
  if (!m) return { raw, version: null, freshUntil: NaN, loadMs: NaN, body: raw };
  return { raw, version: m[1], freshUntil: Number(m[2]), loadMs: Number(m[3]), body: m[4] };
}

/** The Redis key of a cache group's version: `<prefix>g:<group>`. */
export function versionKey(prefix, group) {
  return `${prefix}g:${group}`;
}

/** The Redis key of a cache group's member set: `<prefix>m:<group>`. */
export function membersKey(prefix, group) {
  return `${prefix}m:${group}`;
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

const quote = (text) => `'${String(text).replace(/'/g, "''")}'`;

/** Inserts a user straight into PostgreSQL (it cannot log in); returns its id. */
export function createUser({ displayName = 'Author', bio = '' } = {}) {
  return Number(
    sql(
      `INSERT INTO users (username, password_hash, display_name, bio) VALUES ('it_${process.pid}_${Date.now()}_${counter++}', 'x', ${quote(displayName)}, ${quote(bio)}) RETURNING id`,
    ),
  );
}

/**
 * Creates a published book (by a new author unless `authorId` is given)
 * straight in PostgreSQL, bypassing the node; returns the book id.
 */
export function createBook(title = 'Test book', { authorId, description = '', published = true } = {}) {
  const author = authorId ?? createUser();
  return Number(
    sql(
      `INSERT INTO books (author_id, title, description, published) VALUES (${author}, ${quote(title)}, ${quote(description)}, ${published}) RETURNING id`,
    ),
  );
}

/**
 * Adds the next chapter to a book straight in PostgreSQL (keeping the book's
 * chapter_count right); returns the chapter id.
 */
export function createChapter(bookId, { title = 'A chapter', body = 'Some text.' } = {}) {
  return Number(
    sql(
      `WITH b AS (UPDATE books SET chapter_count = chapter_count + 1 WHERE id = ${Number(bookId)} RETURNING chapter_count)
       INSERT INTO chapters (book_id, number, title, body) SELECT ${Number(bookId)}, chapter_count, ${quote(title)}, ${quote(body)} FROM b RETURNING id`,
    ),
  );
}

/**
 * Starts `n` nodes that share one Redis (`redisUrl`, default the suite's) and
 * one key prefix, unique to this call, so they form one cluster with a cold
 * cache. `env` goes to every node, `nodeEnv[i]` to node i only (e.g. a fault).
 * Resolves with the nodes (each has .prefix) once all are ready.
 */
export async function startCluster(n, env = {}, { nodeEnv = [], redisUrl, name = 'cluster' } = {}) {
  const prefix = env.SB_REDIS_KEY_PREFIX ?? uniquePrefix(name);
  const shared = { ...env, SB_REDIS_KEY_PREFIX: prefix, ...(redisUrl ? { SB_REDIS_URL: redisUrl } : {}) };
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      startNode({ name: `${name}${i}`, env: { ...shared, ...(nodeEnv[i] ?? {}) } }),
    ),
  );
}

/** `{Authorization: 'Bearer <token>'}` for an authenticated request. */
export function authed(token) {
  return { Authorization: `Bearer ${token}` };
}

/**
 * One HTTP call to a node (or a base URL): JSON body in, parsed body out.
 * Resolves with {status, headers, body (parsed JSON or null), text, cache
 * (X-Cache), etag}. Never throws on an HTTP status: tests assert on it.
 */
export async function api(node, method, path, { token, body, headers = {} } = {}) {
  const base = typeof node === 'string' ? node : node.url;
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(token ? authed(token) : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const { text, body: parsed } = await readBody(res);
  return { status: res.status, headers: res.headers, body: parsed, text, cache: res.headers.get('x-cache'), etag: res.headers.get('etag') };
}

/** A fetch response's body as {text, body} (body: parsed JSON, or null). */
export async function readBody(res) {
  const text = await res.text();
  try {
    return { text, body: text ? JSON.parse(text) : null };
  } catch {
    return { text, body: null };
  }
}

/**
 * Registers a new account through the node: POST /api/auth/register.
 * Resolves with {token, user}; throws (with the answer) unless it is 201.
 */
export async function register(node, username = `u${process.pid.toString(36)}_${Date.now().toString(36)}_${counter++}`) {
  const res = await api(node, 'POST', '/api/auth/register', {
    body: { username, password: 'password123', display_name: `Tester ${username}` },
  });
  if (res.status !== 201 || !res.body?.token || !res.body?.user)
    throw new Error(`register ${username}: HTTP ${res.status} ${res.text}`);
  return { token: res.body.token, user: res.body.user };
}

/** GET /stats of a node with the admin key; throws unless 200. */
export async function stats(node) {
  const res = await fetch(`${node.url}/stats`, { headers: { 'X-Admin-Key': ADMIN_KEY } });
  if (res.status !== 200) throw new Error(`/stats: HTTP ${res.status} ${await res.text()}`);
  return res.json();
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
