// hostile_http — the hostile-client suite, HTTP side (issue 14): one client
// pipelines requests on one connection (3, 20, 100 back to back in one
// write, and an endless pipeline it never reads the answers of), sends
// tens of thousands of distinct query strings to a cached list (junk
// parameters, and distinct valid pages), and holds hundreds of connections
// trickling a request head byte by byte — while a bystander on another
// client address times its GET /healthz (and a cached GET /api/books/1).
// Each test asserts the node's RSS stays within RSS_BOUND of its baseline,
// every bystander request is answered within LATENCY_BOUND_MS, and the
// attacker gets what the contract says: every pipelined request answered, in
// order (the node reads one request at a time and at most one read buffer
// ahead, so a pipeline whose answers are not read stops being read, never
// buffered without bound);
// 400 bad_request naming an unknown query parameter; unfinished heads closed
// within request_timeout_ms. A single slow head, and max_connections_per_ip,
// are tested in badinput_http and limits: here it is many of them at once,
// with the bystander's timings and the node's memory.
// Never: sleeps for time (the attack's length is a deadline; a trickle's pace
// is the attack itself; every other wait is for answers or a close, with a
// deadline); leaves a socket open after its test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  hostileNode, underAttack, measured, assertHeld, httpAttacker, requestFlood, rawSocket, drop, SECONDS,
} from './lib/hostile.mjs';

// The per-address rate of requests without a credential is off in the
// other attacks: it would refuse most of a flood with 429 before it reached
// what they are about. The anonymous flood below runs with the default on.
const NO_ANON_LIMIT = { SB_ANON_REQUESTS_PER_IP: '0' };
const DEFAULT_ANON_LIMIT = { SB_ANON_REQUESTS_PER_IP: '100', SB_ANON_REQUESTS_BURST: '400' };
const BYSTANDER_PATHS = ['/healthz', '/api/books/1'];

const get = (path, last = false) => `GET ${path} HTTP/1.1\r\nHost: x\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
const show = (o) => JSON.stringify(o).slice(0, 1500);

/**
 * Sends `paths` pipelined in one write on a new connection and waits (up to
 * `ms`) for every answer. Resolves with {sent, answered, closed, statuses,
 * inOrder (each answer is the one of its request: checked by `expect`)}, or
 * null when the attack's time ran out before the requests were written (then
 * nothing was sent, and nothing can be expected back).
 */
async function pipeline(node, paths, expect, signal, ms = 5000) {
  const conn = await httpAttacker(node);
  try {
    const written = await conn.send(paths.map((p, i) => get(p, i === paths.length - 1)).join(''), signal);
    if (!written && signal.aborted) return null;
    await conn.untilResponses(paths.length, ms);
    const statuses = conn.responses.map((r) => r.status);
    const inOrder = conn.responses.every((r, i) => expect(paths[i], r));
    return { sent: paths.length, answered: conn.responses.length, closed: conn.closed, statuses, inOrder };
  } finally {
    drop(conn.socket);
  }
}

// The answer of GET /api/books/N is book N; /healthz and /readyz have their own bodies.
const answers = (path, r) => {
  if (r.status !== 200) return false;
  if (path === '/healthz') return r.json?.status === 'ok';
  if (path === '/readyz') return r.json?.redis === 'ok' && r.json?.postgres === 'ok';
  const book = /^\/api\/books\/(\d+)$/.exec(path);
  return book ? r.json?.id === Number(book[1]) : false;
};

test('requests pipelined in one write (3, then 20) are all answered, in order', async (t) => {
  const node = await hostileNode(t, NO_ANON_LIMIT, 'hpipe');
  const three = ['/healthz', '/api/books/1', '/readyz'];
  const twenty = Array.from({ length: 20 }, (_, i) => `/api/books/${i + 1}`);
  const result = await underAttack(
    node,
    async ({ signal }) => {
      // Again and again until the time is up: every round must be whole.
      let rounds = 0;
      for (; rounds < 5000 && !signal.aborted; rounds++)
        for (const paths of [three, twenty]) {
          const r = await pipeline(node, paths, answers, signal);
          if (r === null) return { rounds, failed: null }; // time is up
          if (r.answered !== paths.length || !r.inOrder) return { rounds, failed: r, paths };
        }
      return { rounds, failed: null };
    },
    { bystanderPaths: BYSTANDER_PATHS },
  );
  measured(t, result, 'http: pipelined 3 and 20');
  const o = result.attackerOutcome;
  assert.equal(o.failed, null, `every pipelined request is answered, in order: ${show(o)}`);
  assert.ok(o.rounds >= 1, show(o));
  assertHeld(result, 'http: pipelined 3 and 20');
});

test('100 requests pipelined in one write: all answered in order, or at least 16 answered and the connection closed; never a hang', async (t) => {
  const node = await hostileNode(t, NO_ANON_LIMIT, 'hpipe100');
  const paths = Array.from({ length: 100 }, (_, i) => `/api/books/${(i % 200) + 1}`);
  const result = await underAttack(
    node,
    async ({ signal }) => {
      let rounds = 0;
      const partial = [];
      for (; rounds < 2000 && !signal.aborted; rounds++) {
        const r = await pipeline(node, paths, answers, signal);
        if (r === null) break; // time is up
        const whole = r.answered === paths.length && r.inOrder;
        const cut = r.closed && r.answered >= 16 && r.inOrder; // 16: a bound a server may choose
        if (!whole && !cut) return { rounds, failed: { ...r, statuses: r.statuses.slice(0, 30) } };
        if (!whole) partial.push(r.answered);
      }
      return { rounds, failed: null, partial };
    },
    { bystanderPaths: BYSTANDER_PATHS },
  );
  measured(t, result, 'http: pipelined 100');
  const o = result.attackerOutcome;
  assert.equal(o.failed, null, `answered in order, and whole or closed cleanly after the depth: ${show(o)}`);
  assertHeld(result, 'http: pipelined 100');
});

test('a pipeline that never reads its answers: the node stops reading it (or closes it), memory stays bounded', async (t) => {
  const node = await hostileNode(t, NO_ANON_LIMIT, 'hpipenr');
  const chunk = Buffer.from(Array.from({ length: 1000 }, () => get('/api/books/1')).join(''));
  const result = await underAttack(
    node,
    async ({ signal }) => {
      const conn = await httpAttacker(node, { keep: false });
      conn.pause(); // never reads: the answers pile up on the node's side
      try {
        let requests = 0;
        let stalled = false;
        for (let i = 0; i < 20000 && !signal.aborted && !conn.closed; i++) {
          if (!(await conn.send(chunk, signal))) {
            stalled = !conn.closed;
            break;
          }
          requests += 1000;
        }
        return { requests, stalled, closed: conn.closed, error: conn.error };
      } finally {
        drop(conn.socket);
      }
    },
    { bystanderPaths: BYSTANDER_PATHS },
  );
  measured(t, result, 'http: pipeline never read');
  const o = result.attackerOutcome;
  assert.ok(o.stalled || o.closed, `the node stopped taking the pipeline (its writes stalled) or closed it: ${show(o)}`);
  assertHeld(result, 'http: pipeline never read');
});

test('distinct junk query strings on GET /api/books: each one 400 bad_request naming the parameter; memory stays bounded', async (t) => {
  const node = await hostileNode(t, NO_ANON_LIMIT, 'hjunk');
  const seconds = Math.max(SECONDS, 5);
  const result = await underAttack(
    node,
    async ({ signal }) => {
      let n = 0;
      const wrong = [];
      const requests = Array.from({ length: 20000 }, () => () => {
        const name = `x${(n++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
        return { path: `/api/books?${name}=1`, name };
      });
      const flood = await requestFlood(node, requests, signal, {
        connections: 8,
        onAnswer: (r, a) => {
          const ok = a.status === 400 && a.body?.error?.code === 'bad_request' && String(a.body.error.message).includes(r.name);
          if (!ok && wrong.length < 5) wrong.push({ path: r.path, status: a.status, text: a.text?.slice(0, 200), error: a.error });
        },
      });
      return { ...flood, failed: flood.failed.slice(0, 5), wrongCount: wrong.length, wrong };
    },
    { seconds, bystanderPaths: BYSTANDER_PATHS },
  );
  measured(t, result, 'http: junk query strings');
  const o = result.attackerOutcome;
  assert.deepEqual(o.wrong, [], `every junk parameter is refused with 400 bad_request naming it: ${show(o)}`);
  assert.ok(o.answered >= 1000, `the flood reached the node (${o.answered} answers in ${seconds} s): ${show(o)}`);
  assertHeld(result, 'http: junk query strings');
});

test('distinct valid pages of GET /api/books (limit, after): all answered, memory stays bounded', async (t) => {
  const node = await hostileNode(t, NO_ANON_LIMIT, 'hpages');
  const seconds = Math.max(SECONDS, 5);
  const result = await underAttack(
    node,
    async ({ signal }) => {
      const requests = Array.from({ length: 20000 }, (_, i) => ({ path: `/api/books?limit=${(i % 100) + 1}&after=${1 + Math.floor(i / 100) * 7 + (i % 7)}` }));
      const wrong = [];
      let ok = 0;
      const flood = await requestFlood(node, requests, signal, {
        connections: 8,
        onAnswer: (r, a) => {
          if (a.status === 200 && Array.isArray(a.body?.items)) ok++;
          else if (wrong.length < 5) wrong.push({ path: r.path, status: a.status, text: a.text?.slice(0, 200), error: a.error });
        },
      });
      return { ...flood, failed: flood.failed.slice(0, 5), ok, wrong };
    },
    { seconds, bystanderPaths: BYSTANDER_PATHS },
  );
  measured(t, result, 'http: distinct valid pages');
  const o = result.attackerOutcome;
  assert.deepEqual(o.wrong, [], `every valid page is answered 200 {items}: ${show(o)}`);
  assert.ok(o.ok >= 500, `the flood reached the node (${o.ok} pages in ${seconds} s): ${show(o)}`);
  assertHeld(result, 'http: distinct valid pages');
});

test('200 connections trickling request heads a byte at a time: each is closed within request_timeout_ms, the bystander is served meanwhile', async (t) => {
  const TIMEOUT_MS = 1000;
  const node = await hostileNode(t, { ...NO_ANON_LIMIT, SB_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS), SB_IDLE_TIMEOUT_MS: '30000' }, 'hslow');
  const head = Buffer.from(`GET /healthz HTTP/1.1\r\nHost: x\r\n${'X-Slow: '.padEnd(4000, 'y')}`);
  const result = await underAttack(
    node,
    async ({ signal }) => {
      const lived = []; // ms each connection lived before the node closed it
      let opened = 0;
      let answered = 0;
      let errors = 0;
      // One trickler: a byte every 100 ms, reopened when the node closes it.
      const trickler = async () => {
        while (!signal.aborted && opened < 100000) {
          let socket;
          try {
            socket = await rawSocket(node);
          } catch {
            errors++;
            return;
          }
          opened++;
          const born = Date.now();
          socket.on('data', () => answered++); // a 408 before the close is fine
          socket.on('error', () => {});
          await new Promise((resolve) => {
            let i = 0;
            const drip = setInterval(() => {
              if (signal.aborted || socket.destroyed || i >= head.length) return finish(false);
              socket.write(head.subarray(i, i + 1));
              i++;
            }, 100);
            let finished = false;
            const finish = (byServer) => {
              if (finished) return;
              finished = true;
              clearInterval(drip);
              signal.removeEventListener('abort', onAbort);
              if (byServer) lived.push(Date.now() - born);
              resolve();
            };
            const onAbort = () => finish(false);
            signal.addEventListener('abort', onAbort, { once: true });
            socket.once('close', () => finish(true));
          });
          drop(socket);
        }
      };
      await Promise.all(Array.from({ length: 200 }, trickler));
      return { opened, closedByServer: lived.length, longestMs: lived.length ? Math.max(...lived) : null, answered, errors };
    },
    { bystanderPaths: BYSTANDER_PATHS },
  );
  measured(t, result, 'http: 200 slow heads');
  const o = result.attackerOutcome;
  assert.ok(o.closedByServer >= 200, `the node closed every trickling connection at least once: ${show(o)}`);
  assert.ok(o.longestMs < TIMEOUT_MS + 1500, `each within request_timeout_ms (${TIMEOUT_MS} ms, plus the timer's slack): ${show(o)}`);
  assertHeld(result, 'http: 200 slow heads');
});

test('an anonymous flood of cold reads (distinct ids, past the cache) from one address: 429 past anon_requests_per_ip, the bystander is served', async (t) => {
  const node = await hostileNode(t, DEFAULT_ANON_LIMIT, 'hanon');
  // Ids past the seeded books: each one a cache miss and a database read.
  const requests = Array.from({ length: 200000 }, (_, i) => ({ method: 'GET', path: `/api/books/${1000000 + i}` }));
  const counts = {};
  const result = await underAttack(
    node,
    async ({ signal }) => {
      const flood = await requestFlood(node, requests, signal, {
        connections: 16,
        onAnswer: (_r, a) => (counts[a.status] = (counts[a.status] ?? 0) + 1),
      });
      return { ...flood, failed: flood.failed.slice(0, 5), counts };
    },
    { bystanderPaths: BYSTANDER_PATHS },
  );
  measured(t, result, 'http: anonymous flood of cold reads');
  const o = result.attackerOutcome;
  assert.ok(o.counts, show(o));
  const served = (o.counts[404] ?? 0) + (o.counts[200] ?? 0);
  assert.ok((o.counts[429] ?? 0) > served, `most of the flood is refused with 429: ${show(o)}`);
  // The burst, and the rate over the attack's seconds, at most.
  assert.ok(served <= 400 + 100 * (result.seconds + 1) + 50, `served no more than the allowance: ${show(o)}`);
  assert.deepEqual(Object.keys(o.counts).filter((k) => !['200', '404', '429'].includes(k)), [], show(o));
  assertHeld(result, 'http: anonymous flood of cold reads');
});
