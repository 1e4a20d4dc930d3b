// anon_limits — the per-address bounds on clients no credential vouches for
// (issue 14): requests without a credential, and requests answered 401,
// are limited per client address (anon_requests_per_ip/_burst: 429
// rate_limited with Retry-After, on the io thread, the connection kept);
// signed-in requests from the same address are not charged; another
// address has its own allowance. Anonymous live subscriptions are bounded
// per address across connections (anon_subscriptions_per_ip): a WebSocket
// subscribe past it is refused too_many_subscriptions, an SSE stream 429;
// closing a connection or unsubscribing gives its share back; signed-in
// subscriptions are not counted. Each side's refusals show in /stats.
// Never: sleeps for time (a refilled allowance is waited for with waitFor,
// a deadline and a condition).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { register, stats, waitFor } from './lib/harness.mjs';
import { liveCluster, openWs, request, subscribe, assertRefused, openSse } from './lib/live.mjs';

const agents = new Map();
after(() => {
  for (const agent of agents.values()) agent.destroy();
});

/** GET `path` from source address `from` on a keep-alive agent: {status, headers, body}. */
function getFrom(node, from, path, headers = {}) {
  if (!agents.has(from)) agents.set(from, new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: from }));
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: node.port, path, agent: agents.get(from), localAddress: from, headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let body = null;
          try {
            body = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode, headers: res.headers, body, socket: req.reusedSocket });
        });
      },
    );
    req.setTimeout(10000, () => req.destroy(new Error(`${path} from ${from}: no answer in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

async function statuses(node, from, path, n, headers) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await getFrom(node, from, path, headers));
  return out;
}

const RATE = { SB_ANON_REQUESTS_PER_IP: '2', SB_ANON_REQUESTS_BURST: '10' };

test('requests without a credential: the burst is served, then 429 rate_limited with Retry-After; the connection stays usable', async (t) => {
  const [node] = await liveCluster(t, 1, RATE, { name: 'anonrate' });
  // An address nothing else uses (the harness's readiness probes come from 127.0.0.1).
  const answers = await statuses(node, '127.0.0.8', '/api/books/1', 20);
  const served = answers.filter((a) => a.status === 200).length;
  const refused = answers.filter((a) => a.status === 429);
  // 10 at once, and at most a few more refilled (2/s) while the 20 ran.
  assert.ok(served >= 10 && served <= 14, `served ${served}: ${answers.map((a) => a.status)}`);
  assert.ok(refused.length >= 6, `refused ${refused.length}: ${answers.map((a) => a.status)}`);
  assert.equal(answers.length, served + refused.length, `nothing but 200 and 429: ${answers.map((a) => a.status)}`);
  const first = refused[0];
  assert.equal(first.body?.error?.code, 'rate_limited', JSON.stringify(first.body));
  assert.ok(Number(first.headers['retry-after']) >= 1, `Retry-After: ${first.headers['retry-after']}`);
  assert.ok(refused.every((a) => a.socket), 'the 429s came on the kept-alive connection');
  const s = await stats(node);
  assert.ok(s.connections.unauthenticated_limited >= refused.length, JSON.stringify(s.connections));
  // The allowance comes back at its rate: the address is served again.
  await waitFor(async () => (await getFrom(node, '127.0.0.8', '/healthz')).status === 200, {
    ms: 5000, every: 100, what: 'the refilled allowance',
  });
});

test('another address has its own allowance, and signed-in requests from a limited address are not charged', async (t) => {
  const [node] = await liveCluster(t, 1, RATE, { name: 'anonaddr' });
  const { token } = await register(node);
  const spent = await statuses(node, '127.0.0.2', '/api/books/1', 15);
  assert.ok(spent.some((a) => a.status === 429), `127.0.0.2 is limited: ${spent.map((a) => a.status)}`);
  const other = await statuses(node, '127.0.0.3', '/api/books/1', 8);
  assert.deepEqual(other.map((a) => a.status), Array(8).fill(200), 'a fresh address is served');
  const signedIn = await statuses(node, '127.0.0.2', '/api/books/1', 15, { Authorization: `Bearer ${token}` });
  assert.deepEqual(signedIn.map((a) => a.status), Array(15).fill(200), 'a signed-in client at the limited address is served');
});

test('requests answered 401 spend their own allowance: past it, every request from that address is 429, bogus tokens included', async (t) => {
  const [node] = await liveCluster(t, 1, RATE, { name: 'anon401' });
  const bogus = { Authorization: 'Bearer not-a-session-token' };
  const answers = await statuses(node, '127.0.0.4', '/api/me/balance', 25, bogus);
  const codes = answers.map((a) => a.status);
  assert.ok(codes.slice(0, 10).every((c) => c === 401), `the first 10 are checked (401): ${codes}`);
  assert.ok(codes.includes(429), `then refused before any check: ${codes}`);
  assert.ok(codes.every((c) => c === 401 || c === 429), `${codes}`);
  const plain = await getFrom(node, '127.0.0.4', '/api/books/1');
  assert.equal(plain.status, 429, 'an anonymous request from that address is refused as well');
  const elsewhere = await getFrom(node, '127.0.0.5', '/api/books/1');
  assert.equal(elsewhere.status, 200, 'another address is not');
});

const SUBS = { SB_ANON_SUBSCRIPTIONS_PER_IP: '3' };

test('anonymous subscriptions are bounded per address across connections; unsubscribe and close give the share back; signed-in ones are not counted', async (t) => {
  const [node] = await liveCluster(t, 1, SUBS, { name: 'anonsubs' });
  const a = await openWs(node, { localAddress: '127.0.0.6' });
  const b = await openWs(node, { localAddress: '127.0.0.6' });
  await subscribe(a, 'books:1');
  await subscribe(a, 'books:2');
  await subscribe(b, 'books:3');
  assertRefused(await request(b, { op: 'subscribe', channel: 'books:4' }), 'too_many_subscriptions', 'a 4th from the address');
  assertRefused(await request(a, { op: 'subscribe', channel: 'books:5' }), 'too_many_subscriptions', 'on the other connection too');
  // Another address is not affected; a signed-in client at this one is not counted.
  const c = await openWs(node, { localAddress: '127.0.0.7' });
  await subscribe(c, 'books:4');
  const { token } = await register(node);
  const signedIn = await openWs(node, { token, localAddress: '127.0.0.6' });
  for (let i = 10; i < 15; i++) await subscribe(signedIn, `books:${i}`);
  // Unsubscribing gives one back.
  const left = await request(a, { op: 'unsubscribe', channel: 'books:1' });
  assert.equal(left.ok, true, JSON.stringify(left));
  await subscribe(b, 'books:6');
  assertRefused(await request(b, { op: 'subscribe', channel: 'books:7' }), 'too_many_subscriptions', 'the bound again');
  // Closing a connection gives back all it held (once the node has seen the close).
  a.close();
  await a.closedPromise;
  await waitFor(async () => (await request(b, { op: 'subscribe', channel: 'books:8' })).ok === true, {
    ms: 5000, every: 50, what: 'the closed connection\'s share back',
  });
  const s = await stats(node);
  assert.ok(s.connections.anonymous_subscriptions_refused >= 3, JSON.stringify(s.connections));
});

test('an anonymous SSE stream takes its channels from the address\'s share: past it, 429 rate_limited with Retry-After', async (t) => {
  const [node] = await liveCluster(t, 1, SUBS, { name: 'anonsse' });
  const held = await openSse(node, { channels: ['books:1', 'books:2'] });
  assert.equal(held.status, 200, held.text);
  const refused = await openSse(node, { channels: ['books:3', 'books:4'] });
  assert.equal(refused.status, 429, refused.text);
  assert.equal(refused.body?.error?.code, 'rate_limited', refused.text);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After');
  const fits = await openSse(node, { channels: ['books:3'] });
  assert.equal(fits.status, 200, fits.text);
  await held.close();
  await waitFor(async () => {
    const again = await openSse(node, { channels: ['books:4', 'books:5'] });
    if (again.ok) await again.close();
    return again.status === 200;
  }, { ms: 5000, every: 100, what: 'the closed stream\'s share back' });
});
