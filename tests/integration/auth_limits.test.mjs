// auth_limits — login and register against a real node, Redis and
// PostgreSQL: failed logins per username and attempts per client address
// are limited across the cluster (429 rate_limited with Retry-After, counted
// in Redis with a TTL), a refused attempt never reaches the database, the
// limit lifts when its window ends, a flood of wrong passwords cannot starve
// other readers of the database pool (hashing has its own bounded slots and
// a queue deadline: 503 unavailable), and with Redis gone login and register
// fail closed (503) without hashing.
// Clients come from distinct loopback addresses (127.0.0.x as the source of
// the TCP connection), so each test has addresses of its own.
// Never: sleeps for time — the window's end is waited for with a deadline.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { api, redis, register, sql, startNode, statementCalls, waitFor } from './lib/harness.mjs';
import { liveCluster } from './lib/live.mjs';
import { assertError, stamp } from './lib/platform.mjs';

const agents = new Map(); // source address -> keep-alive agent
after(() => {
  for (const agent of agents.values()) agent.destroy();
});

/** POSTs JSON to `node` from source address `from`; resolves {status, headers, body, ms}. */
function postFrom(node, from, path, body) {
  if (!agents.has(from)) agents.set(from, new http.Agent({ keepAlive: true, maxSockets: 64, localAddress: from }));
  const payload = JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: node.port,
        path,
        method: 'POST',
        agent: agents.get(from),
        localAddress: from,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let parsed = null;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {}
          resolve({ status: res.statusCode, headers: res.headers, body: parsed, text, ms: performance.now() - started });
        });
      },
    );
    req.setTimeout(10000, () => req.destroy(new Error(`${path} from ${from}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const login = (node, from, username, password) => postFrom(node, from, '/api/auth/login', { username, password });
const signUp = (node, from, username) =>
  postFrom(node, from, '/api/auth/register', { username, password: 'password123', display_name: username });

/** Asserts a 429 rate_limited with a Retry-After of 1..`max` seconds; returns it. */
function assertLimited(res, max, what) {
  assertError(res, 429, 'rate_limited', what);
  const retry = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= max, `${what}: Retry-After ${res.headers['retry-after']} in 1..${max}`);
  return retry;
}

const LOGIN_STATEMENT = 'password_hash FROM users'; // the user_login statement

test('failed logins past the per-username limit are 429 (the right password too) until the window ends; other users still sign in until the address limit', async (t) => {
  const WINDOW_S = 3;
  const [node] = await liveCluster(
    t,
    1,
    { SB_AUTH_WINDOW_S: String(WINDOW_S), SB_AUTH_ATTEMPTS_PER_USER: '3', SB_AUTH_ATTEMPTS_PER_IP: '8' },
    { name: 'aulim' },
  );
  const alice = `al_${stamp()}`.slice(0, 32);
  const bob = `bo_${stamp()}`.slice(0, 32);
  assert.equal((await signUp(node, '127.0.0.2', alice)).status, 201);
  assert.equal((await signUp(node, '127.0.0.2', bob)).status, 201);
  const A = '127.0.0.3'; // the attacker
  const B = '127.0.0.4'; // the real alice, elsewhere

  for (let i = 1; i <= 3; i++)
    assertError(await login(node, A, alice, `wrong-${i}`), 401, 'unauthorized', `wrong password ${i} of 3`);
  const reads = statementCalls(LOGIN_STATEMENT);
  assertLimited(await login(node, A, alice, 'wrong-4'), WINDOW_S, 'a 4th wrong password');
  assertLimited(await login(node, A, alice, 'password123'), WINDOW_S, 'the right password while limited');
  assertLimited(await login(node, B, alice, 'password123'), WINDOW_S, 'the right password from another address');
  assert.equal(statementCalls(LOGIN_STATEMENT), reads, 'a refused attempt never reaches the database');
  const pttl = Number(redis('PTTL', `${node.prefix}auth:u:${alice}`));
  assert.ok(pttl > 0 && pttl <= WINDOW_S * 1000, `the username's counter expires with the window (PTTL ${pttl})`);

  // Bob, from the attacker's address: 3 attempts of 8 are spent (refusals
  // are not counted), so 5 more sign-ins pass and the 6th is refused.
  for (let i = 1; i <= 5; i++) assert.equal((await login(node, A, bob, 'password123')).status, 200, `bob's sign-in ${i} from A`);
  assertLimited(await login(node, A, bob, 'password123'), WINDOW_S, 'past the address limit');
  assert.equal((await login(node, B, bob, 'password123')).status, 200, 'bob from another address');

  // One warning for the burst, not one per attempt.
  const burst = node.logs.split('\n').filter((l) => l.includes(`failed logins for user "${alice}"`));
  assert.equal(burst.length, 1, `one burst line:\n${node.logs}`);
  assert.match(burst[0], new RegExp(`auth: 3 failed logins for user "${alice}" from ${A.replace(/\./g, '\\.')} in the last ${WINDOW_S}s`));

  // Nothing restarts: when the window ends alice signs in again.
  const back = await waitFor(
    async () => {
      const res = await login(node, B, alice, 'password123');
      if (res.status !== 429) return res;
      return null;
    },
    { ms: WINDOW_S * 1000 + 3000, every: 100, what: 'the window to end' },
  );
  assert.equal(back.status, 200, back.text);
  // A successful login gives its username charge back.
  assert.equal(redis('GET', `${node.prefix}auth:u:${alice}`) || '0', '0');
});

test('a register flood from one address is 429 past the limit; other addresses still register', async (t) => {
  const [node] = await liveCluster(t, 1, { SB_AUTH_ATTEMPTS_PER_IP: '5' }, { name: aulimName('reg') });
  const C = '127.0.0.5';
  const tag = `rf_${stamp()}`.slice(0, 24);
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => signUp(node, C, `${tag}_${i}`)));
  const made = answers.filter((r) => r.status === 201).length;
  const refused = answers.filter((r) => r.status === 429);
  assert.equal(made, 5, answers.map((r) => `${r.status} ${r.text.slice(0, 80)}`).join('\n'));
  assert.equal(refused.length, 7);
  for (const r of refused) assertLimited(r, 60, 'a register past the address limit');
  assert.equal(Number(sql(`SELECT count(*) FROM users WHERE username LIKE '${tag}%'`)), 5, 'refused registers wrote nothing');
  assertLimited(await login(node, C, `${tag}_0`, 'password123'), 60, 'a login from the same address (one counter)');
  assert.equal((await signUp(node, '127.0.0.6', `${tag}_x`)).status, 201, 'another address');
  assert.ok(Number(redis('PTTL', `${node.prefix}auth:a:${C}`)) > 0, 'the address counter has a TTL');
});

test('40 concurrent wrong logins do not slow a cached read or a database read; hash jobs past the queue deadline are 503', async (t) => {
  const [node] = await liveCluster(
    t,
    1,
    {
      SB_AUTH_ATTEMPTS_PER_IP: '0',
      SB_AUTH_ATTEMPTS_PER_USER: '0',
      SB_AUTH_HASH_CONCURRENCY: '1',
      SB_AUTH_HASH_QUEUE_MS: '300',
      // The bystander reads its balance in a tight loop: not what the
      // per-token rate is about.
      SB_REQUESTS_PER_TOKEN_PER_S: '0',
    },
    { name: aulimName('flood') },
  );
  const victim = `fl_${stamp()}`.slice(0, 32);
  const reader = await register(node);
  assert.equal((await signUp(node, '127.0.0.2', victim)).status, 201);
  assert.equal((await api(node, 'GET', '/api/books/1')).status, 200, 'warm the cached read');

  // 40 wrong logins in flight at all times for ~1.5 s.
  const E = '127.0.0.7';
  const statuses = {};
  let stop = false;
  const attacker = async () => {
    while (!stop) {
      const res = await login(node, E, victim, 'not-the-password');
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status === 503) {
        assertError(res, 503, 'unavailable', 'a hash job past its deadline');
        assert.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After on 503');
      }
    }
  };
  const flood = Array.from({ length: 40 }, attacker);
  const slowest = { cached: 0, db: 0 };
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    let t0 = performance.now();
    assert.equal((await api(node, 'GET', '/api/books/1')).status, 200);
    slowest.cached = Math.max(slowest.cached, performance.now() - t0);
    t0 = performance.now();
    const balance = await api(node, 'GET', '/api/me/balance', { token: reader.token });
    assert.equal(balance.status, 200, balance.text);
    slowest.db = Math.max(slowest.db, performance.now() - t0);
  }
  stop = true;
  await Promise.all(flood);
  t.diagnostic(`flood answers ${JSON.stringify(statuses)}; slowest bystander: cached ${slowest.cached.toFixed(1)} ms, db ${slowest.db.toFixed(1)} ms`);
  assert.ok(statuses[401] > 0, 'wrong passwords were still checked');
  assert.ok(statuses[503] > 0, 'hash jobs past auth_hash_queue_ms were answered 503');
  assert.deepEqual(Object.keys(statuses).sort(), Object.keys(statuses).filter((s) => s === '401' || s === '503').sort(), 'only 401 and 503');
  assert.ok(slowest.cached < 500, `cached read stayed under 500 ms (${slowest.cached} ms)`);
  assert.ok(slowest.db < 500, `database read stayed under 500 ms (${slowest.db} ms)`);
});

test('with Redis unreachable, login and register are 503 without hashing, logged once', async () => {
  const node = await startNode({ name: 'aunoredis', ready: false, env: { SB_REDIS_URL: 'redis://127.0.0.1:1' } });
  try {
    const reads = statementCalls(LOGIN_STATEMENT);
    for (let i = 0; i < 3; i++) {
      assertError(await login(node, '127.0.0.8', 'nobody_here', 'x'), 503, 'unavailable', 'login without Redis');
      assertError(await signUp(node, '127.0.0.8', `nr_${stamp()}`.slice(0, 32)), 503, 'unavailable', 'register without Redis');
    }
    assert.equal(statementCalls(LOGIN_STATEMENT), reads, 'nothing reached the database');
    const lines = node.logs.split('\n').filter((l) => l.includes('did not answer the login limiter'));
    assert.equal(lines.length, 1, node.logs);
  } finally {
    const { code, signal } = await node.stop();
    assert.equal(code, 0, `exit ${code ?? signal}`);
  }
});

function aulimName(what) {
  return `aulim${what}`;
}
