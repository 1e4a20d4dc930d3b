// hostile — helpers for the hostile-client suite (hostile_*.test.mjs) and its
// longer runs (bench/hostile/run): one node per attack, its resident memory
// read from /proc/<pid>/status, a bystander client that measures its own
// requests from another client address while the attack runs (in a worker
// thread, so the attacker's JavaScript on this thread cannot inflate its
// timings), the attack runner (underAttack) that samples the node's RSS every
// 200 ms, and attackers on raw sockets that never read unless told to
// (wsAttacker, httpAttacker) — their received bytes are parsed as they come
// and dropped, so a flood of answers cannot fill this process either.
// Owns: the sockets, agents and workers it opens (all closed when an attack
// ends, or when the test file ends at the latest), and the optional report
// file (SB_HOSTILE_REPORT: one JSON line per attack, read by bench/hostile).
// Never: sleeps instead of waiting for a condition (the bystander's gap
// between its requests is its pace, not a wait for something); runs a loop
// without both a count and a time bound; decides what a node should answer
// (the tests assert that); reads anything of the node but /proc and sockets.
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { readFileSync, appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { after } from 'node:test';
import { liveCluster } from './live.mjs';
import { acceptFor, wsFrame } from './badinput.mjs';

export const MiB = 1024 * 1024;
/** The bounds issue 14 states: RSS above the baseline, and a bystander's slowest request. */
export const RSS_BOUND = 128 * MiB;
export const LATENCY_BOUND_MS = 250;
/** How long each attack runs: a few seconds in the suite, longer in bench/hostile. */
export const SECONDS = Number(process.env.SB_HOSTILE_SECONDS ?? 3);
// A node past this much growth has plainly lost: the attack stops early so a
// failing run does not take the shared machine's memory with it.
const ABORT_GROWTH = 4 * RSS_BOUND;
// Client addresses (all of 127/8 is loopback on Linux): the bystander is
// another client than the attacker, as it would be on the internet, so the
// per-address limits of one never count the other's requests.
export const ATTACKER_ADDRESS = '127.0.0.1';
export const BYSTANDER_ADDRESS = '127.0.0.2';

const open = new Set(); // sockets, agents and workers still open
after(() => {
  for (const thing of open) (thing.destroy ?? thing.terminate).call(thing);
  open.clear();
});

/** Starts one node for test `t` (stopped, and checked to exit 0, when the test ends). */
export async function hostileNode(t, env = {}, name = 'hostile') {
  const [node] = await liveCluster(t, 1, { SB_LOG_LEVEL: 'error', ...env }, { name });
  return node;
}

/** The resident set size of process `pid` in bytes (VmRSS), or NaN once it is gone. */
export function rssBytes(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The p-th percentile (0..1) of `values` (nearest rank); 0 for none. */
export function percentile(values, p) {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

// ------------------------------------------------------------ the bystander

// Runs in a worker thread (CommonJS, eval'd): sequential GETs on one
// keep-alive connection from `localAddress` (the agent opens a new one if the
// node closes it), `gapMs` between them, until told to stop or `maxCount`
// requests or `maxMs` have passed. Each sample: [path, status (0: failed),
// ms (request written to last body byte), error].
const BYSTANDER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { port, paths, gapMs, localAddress, timeoutMs, maxCount, maxMs } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress });
let stopping = false;
parentPort.on('message', (m) => { if (m === 'stop') stopping = true; });
const one = (path) => new Promise((resolve) => {
  const t0 = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: timeoutMs }, (res) => {
    res.on('data', () => {});
    res.on('end', () => resolve([path, res.statusCode, ms(), null]));
    res.on('error', (e) => resolve([path, 0, ms(), e.code || e.message]));
  });
  req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
  req.on('error', (e) => resolve([path, 0, ms(), e.code || e.message]));
});
(async () => {
  const samples = [];
  const end = Date.now() + maxMs;
  for (let i = 0; i < maxCount && !stopping && Date.now() < end; i++) {
    samples.push(await one(paths[i % paths.length]));
    if (i === 0) parentPort.postMessage({ first: samples[0] });
    await new Promise((r) => setTimeout(r, gapMs));
  }
  agent.destroy();
  parentPort.postMessage({ samples });
})();
`;

/**
 * Starts a bystander against `node`: GET `paths` in turn, one at a time, on
 * its own keep-alive connection from BYSTANDER_ADDRESS. Resolves once its
 * first request was answered (it fails if that is not a 200 within 5 s) with
 * {stop()} — which resolves with the summary of every request:
 * {count, failures ([path, status, error]: non-200 answers and errors),
 * max, p99 (ms, over all paths), byPath: {path: {count, max, p99}}}.
 */
export async function startBystander(node, { paths = ['/healthz'], gapMs = 10, timeoutMs = 2000, maxCount = 100000, maxMs = 600000 } = {}) {
  const worker = new Worker(BYSTANDER, {
    eval: true,
    workerData: { port: node.port, paths, gapMs, localAddress: BYSTANDER_ADDRESS, timeoutMs, maxCount, maxMs },
  });
  open.add(worker);
  let onSamples;
  const samples = new Promise((resolve, reject) => {
    onSamples = resolve;
    worker.once('error', reject);
    worker.once('exit', () => reject(new Error('the bystander exited without its samples')));
  });
  const first = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bystander got no first answer within 5 s')), 5000);
    worker.on('message', (m) => {
      if (m.first) {
        clearTimeout(timer);
        resolve(m.first);
      }
      if (m.samples) onSamples(m.samples);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  assert.equal(first[1], 200, `the bystander's first ${first[0]} before the attack: ${JSON.stringify(first)}`);
  return {
    async stop() {
      worker.postMessage('stop');
      // Its last request ends within timeoutMs; give it that and a margin.
      let timer;
      const all = await Promise.race([
        samples,
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the bystander did not stop')), timeoutMs + 3000))),
      ]).finally(() => clearTimeout(timer));
      await worker.terminate();
      open.delete(worker);
      return summarise(all);
    },
  };
}

function summarise(samples) {
  const byPath = {};
  for (const [path, , ms] of samples) (byPath[path] ??= []).push(ms);
  const all = samples.map((s) => s[2]);
  return {
    count: samples.length,
    failures: samples.filter((s) => s[1] !== 200).map(([path, status, , error]) => [path, status, error]),
    max: all.length ? Math.max(...all) : 0,
    p99: percentile(all, 0.99),
    byPath: Object.fromEntries(
      Object.entries(byPath).map(([p, v]) => [p, { count: v.length, max: Math.max(...v), p99: percentile(v, 0.99) }]),
    ),
  };
}

// --------------------------------------------------------------- the runner

/**
 * Runs `attack(ctx)` against `node` for `seconds` while a bystander (GET
 * `bystanderPaths` in turn) measures its requests and the node's RSS is
 * sampled every 200 ms. ctx: {node, deadline (epoch ms), signal (aborted at
 * the deadline, or early when the node grew past 4x the RSS bound),
 * remaining() (ms left)}. The attack must end by itself once the signal is
 * aborted; it is given 10 s more, then reported as hung. With `repeat` (the
 * bench's long runs: an attacker that is cut off comes back) the attack runs
 * again whenever it ends before the deadline, at most `maxRounds` times.
 * The measuring goes on for the whole `seconds` even if the attack ends early.
 * Resolves with {baselineRss, peakRss, growth, bystanderMax, bystanderP99,
 * bystander (the summary), attackerOutcome (the first round's outcome),
 * outcomes (every round's), aborted (why the attack stopped early, or null),
 * seconds}.
 */
export async function underAttack(node, attack, { seconds = SECONDS, bystanderPaths = ['/healthz'], repeat = process.env.SB_HOSTILE_REPEAT === '1', maxRounds = 10000 } = {}) {
  const pid = node.child.pid;
  const bystander = await startBystander(node, { paths: bystanderPaths });
  const baselineRss = rssBytes(pid);
  assert.ok(Number.isFinite(baselineRss), `the node's RSS is readable from /proc/${pid}/status`);
  let peakRss = baselineRss;
  const controller = new AbortController();
  let aborted = null;
  const sample = () => {
    const rss = rssBytes(pid);
    if (rss > peakRss) peakRss = rss;
    if (!aborted && rss - baselineRss > ABORT_GROWTH) {
      aborted = `the node grew by ${(rss - baselineRss) / MiB} MiB: attack stopped early`;
      controller.abort(new Error(aborted));
    }
  };
  const sampler = setInterval(sample, 200);
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const timer = setTimeout(() => controller.abort(new Error('the attack ran its time')), seconds * 1000);
  const ctx = { node, deadline, signal: controller.signal, remaining: () => Math.max(0, deadline - Date.now()) };
  const outcomes = [];
  try {
    for (let round = 0; round < maxRounds; round++) {
      let hang;
      const outcome = await Promise.race([
        Promise.resolve().then(() => attack(ctx)).catch((e) => ({ error: e.message })),
        new Promise((resolve) => {
          const check = () => {
            if (Date.now() > deadline + 10000) resolve({ hung: true });
            else hang = setTimeout(check, 250);
          };
          check();
        }),
      ]).finally(() => clearTimeout(hang));
      outcomes.push(outcome);
      if (!repeat || controller.signal.aborted || outcome.hung) break;
    }
    // Measure for the whole time, even when the attacker was cut off early.
    await new Promise((resolve) => {
      if (controller.signal.aborted) resolve();
      else controller.signal.addEventListener('abort', resolve, { once: true });
    });
  } finally {
    clearTimeout(timer);
    clearInterval(sampler);
  }
  sample();
  const summary = await bystander.stop();
  return {
    baselineRss,
    peakRss,
    growth: peakRss - baselineRss,
    bystanderMax: summary.max,
    bystanderP99: summary.p99,
    bystander: summary,
    attackerOutcome: outcomes[0],
    outcomes,
    aborted,
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * Records an attack's result for bench/hostile (SB_HOSTILE_REPORT) and shows
 * it as a diagnostic of test `t`: call it first, so the figures are there
 * whichever assertion fails.
 */
export function measured(t, result, what) {
  record(what, result);
  const mib = (b) => (b / MiB).toFixed(1);
  t.diagnostic(
    `${what}: RSS ${mib(result.baselineRss)} -> peak ${mib(result.peakRss)} MiB (+${mib(result.growth)}); ` +
      `bystander ${result.bystander.count} requests, max ${result.bystanderMax.toFixed(1)} ms, p99 ${result.bystanderP99.toFixed(1)} ms; ` +
      `attacker ${JSON.stringify(result.attackerOutcome).slice(0, 400)}`,
  );
}

/**
 * Asserts the two bounds every attack must leave standing: the node's RSS
 * within RSS_BOUND of its baseline, and every bystander request answered
 * 200 within LATENCY_BOUND_MS; and that the attack ended by itself.
 */
export function assertHeld(result, what) {
  const mib = (b) => (b / MiB).toFixed(1);
  assert.equal(result.aborted, null, `${what}: ${result.aborted}`);
  assert.ok(
    result.growth < RSS_BOUND,
    `${what}: RSS grew by ${mib(result.growth)} MiB (baseline ${mib(result.baselineRss)}, peak ${mib(result.peakRss)}); the bound is ${mib(RSS_BOUND)} MiB`,
  );
  assert.deepEqual(result.bystander.failures.slice(0, 10), [], `${what}: every bystander request is answered 200`);
  assert.ok(
    result.bystanderMax < LATENCY_BOUND_MS,
    `${what}: the bystander's slowest request took ${result.bystanderMax.toFixed(1)} ms (p99 ${result.bystanderP99.toFixed(1)} ms, ${result.bystander.count} requests: ${JSON.stringify(result.bystander.byPath)}); the bound is ${LATENCY_BOUND_MS} ms`,
  );
  for (const o of result.outcomes) assert.ok(!o.hung, `${what}: the attack did not end by itself`);
}

/** Appends one line about an attack to SB_HOSTILE_REPORT (bench/hostile's table), if set. */
export function record(what, result) {
  const file = process.env.SB_HOSTILE_REPORT;
  if (!file) return;
  const line = {
    attack: what,
    seconds: Number(result.seconds.toFixed(1)),
    baseline_mib: Number((result.baselineRss / MiB).toFixed(1)),
    peak_mib: Number((result.peakRss / MiB).toFixed(1)),
    growth_mib: Number((result.growth / MiB).toFixed(1)),
    bystander_requests: result.bystander.count,
    bystander_failures: result.bystander.failures.length,
    bystander_max_ms: Number(result.bystanderMax.toFixed(1)),
    bystander_p99_ms: Number(result.bystanderP99.toFixed(1)),
    rounds: result.outcomes.length,
    outcome: result.attackerOutcome,
    aborted: result.aborted,
  };
  appendFileSync(file, JSON.stringify(line) + '\n');
}

// ------------------------------------------------------------ raw attackers

/** Resolves once `socket` is connected from `localAddress`; rejects on error. */
function connectFrom(port, localAddress) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    open.add(socket);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Writes `bytes` to `socket`; resolves true once they reached the kernel,
 * false when the socket failed or closed, or `signal` was aborted first (the
 * peer stopped reading: the write never completes).
 */
export function writeOrStop(socket, bytes, signal) {
  if (socket.destroyed || !socket.writable || signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok) => {
      signal?.removeEventListener('abort', onAbort);
      socket.off('close', onClose);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const onClose = () => done(false);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('close', onClose);
    socket.write(bytes, (err) => done(!err));
  });
}

/**
 * An anonymous WebSocket on a raw TCP socket from `localAddress`: the upgrade
 * by hand, then the server's frames parsed as they arrive and dropped — only
 * counted ({frames: {opcode: n}, bytes}) and the close frame's code kept.
 * Resolves with {socket, closeCode (null until a close frame came), closed
 * (true once the TCP connection closed), closedAt, error, counts, send(bytes,
 * signal) (writeOrStop), pause() (stop reading: the kernel buffers fill and
 * the TCP window closes), resume(), untilClosed(ms) (resolves true if closed
 * within ms), destroy()}.
 */
export async function wsAttacker(node, { localAddress = ATTACKER_ADDRESS, path = '/ws', headers = {} } = {}) {
  const socket = await connectFrom(node.port, localAddress);
  const key = randomBytes(16).toString('base64');
  const lines = Object.entries({
    Host: `127.0.0.1:${node.port}`, Upgrade: 'websocket', Connection: 'Upgrade',
    'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13', ...headers,
  }).map(([k, v]) => `${k}: ${v}`);
  const ws = {
    socket, closeCode: null, closed: false, closedAt: null, error: null,
    counts: { frames: {}, bytes: 0 },
    send: (bytes, signal) => writeOrStop(socket, bytes, signal),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    destroy: () => socket.destroy(),
    untilClosed: (ms) => new Promise((resolve) => {
      if (ws.closed) return resolve(true);
      const timer = setTimeout(() => resolve(false), ms);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    }),
  };
  socket.on('error', (e) => (ws.error = e.code ?? e.message));
  socket.on('close', () => {
    ws.closed = true;
    ws.closedAt = Date.now();
    open.delete(socket);
  });
  let head = null;
  let pending = Buffer.alloc(0);
  const headDone = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no upgrade response within 5 s')), 5000);
    socket.on('close', () => {
      clearTimeout(timer);
      if (head === null) reject(new Error(`closed before the upgrade response: ${pending.toString('latin1').slice(0, 300)}`));
    });
    socket.on('data', (d) => {
      ws.counts.bytes += d.length;
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      if (head === null) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = pending.subarray(0, end).toString('latin1');
        pending = pending.subarray(end + 4);
        clearTimeout(timer);
        resolve();
      }
      pending = parseFrames(pending, ws);
    });
  });
  socket.write(`GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  await headDone;
  ws.head = head;
  ws.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  ws.accepted = ws.status === 101 && /\r\nsec-websocket-accept: *([^\r]+)/i.exec(head)?.[1] === acceptFor(key);
  return ws;
}

// Consumes the complete server frames at the start of `buf` into `ws.counts`
// (and ws.closeCode); returns the incomplete rest.
function parseFrames(buf, ws) {
  let i = 0;
  for (;;) {
    if (i + 2 > buf.length) break;
    let n = buf[i + 1] & 0x7f;
    let p = i + 2;
    if (n === 126) {
      if (p + 2 > buf.length) break;
      n = buf.readUInt16BE(p);
      p += 2;
    } else if (n === 127) {
      if (p + 8 > buf.length) break;
      n = Number(buf.readBigUInt64BE(p));
      p += 8;
    }
    if (buf[i + 1] & 0x80) p += 4;
    if (p + n > buf.length) break;
    const opcode = buf[i] & 15;
    ws.counts.frames[opcode] = (ws.counts.frames[opcode] ?? 0) + 1;
    if (opcode === 8 && ws.closeCode === null) ws.closeCode = n >= 2 ? buf.readUInt16BE(p) : 1005;
    i = p + n;
  }
  return i ? Buffer.from(buf.subarray(i)) : buf;
}

/**
 * Floods `ws` with `frame` (one frame's bytes, written `batch` at a time in
 * one write) until the signal is aborted, the socket closes, or `maxFrames`
 * were written. Resolves with {framesSent, bytesSent, stalled (a write did
 * not complete before the signal: the node stopped reading)}.
 */
export async function flood(ws, frame, signal, { batch = 1000, maxFrames = 50_000_000 } = {}) {
  const chunk = Buffer.concat(Array.from({ length: batch }, () => frame));
  let framesSent = 0;
  let stalled = false;
  while (framesSent < maxFrames && !signal.aborted && !ws.closed) {
    const ok = await ws.send(chunk, signal);
    if (!ok) {
      stalled = !ws.closed && signal.aborted;
      break;
    }
    framesSent += batch;
  }
  return { framesSent, bytesSent: framesSent * frame.length, stalled };
}

/** A masked client frame with a fixed key (a flood needs no fresh one per frame). */
export function floodFrame(opcode, payload = Buffer.alloc(0), fin = true) {
  return wsFrame({ opcode, payload, fin, maskKey: Buffer.from([1, 2, 3, 4]) });
}

/**
 * A raw HTTP connection from `localAddress` that parses answers as they
 * arrive (kept: status, head, body of each, in order) and may stop reading
 * (pause). {socket, responses, closed, send(bytes, signal), pause(),
 * untilResponses(n, ms) (true once n answers came; false at the deadline or
 * when the connection closed first), destroy()}.
 */
export async function httpAttacker(node, { localAddress = ATTACKER_ADDRESS, keep = true } = {}) {
  const socket = await connectFrom(node.port, localAddress);
  let text = '';
  const conn = {
    socket, responses: [], count: 0, closed: false, error: null,
    send: (bytes, signal) => writeOrStop(socket, bytes, signal),
    pause: () => socket.pause(),
    destroy: () => socket.destroy(),
    untilResponses: (n, ms) => new Promise((resolve) => {
      const check = () => {
        if (conn.count >= n) return finish(true);
        if (conn.closed) return finish(false);
      };
      const timer = setTimeout(() => finish(false), ms);
      const finish = (v) => {
        clearTimeout(timer);
        socket.off('data', later);
        socket.off('close', later);
        resolve(v);
      };
      const later = () => setImmediate(check);
      socket.on('data', later);
      socket.on('close', later);
      check();
    }),
  };
  socket.on('error', (e) => (conn.error = e.code ?? e.message));
  socket.on('close', () => {
    conn.closed = true;
    open.delete(socket);
  });
  socket.on('data', (d) => {
    text += d.toString('latin1');
    // Take every complete response off the front (bodies by Content-Length).
    for (;;) {
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = text.slice(0, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (text.length < end + 4 + length) break;
      const body = text.slice(end + 4, end + 4 + length);
      text = text.slice(end + 4 + length);
      conn.count++;
      if (keep) {
        let json = null;
        try {
          json = JSON.parse(body);
        } catch {
          json = null;
        }
        conn.responses.push({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]), head, body, json });
      }
    }
  });
  return conn;
}

/**
 * Sends `requests` ({method, path, headers, body}) on a keep-alive agent of
 * `connections` sockets from `localAddress`, `connections` at a time, until
 * all were sent or the signal is aborted. `onAnswer(request, {status, body})`
 * sees each answer. Resolves with {sent, answered, failed (errors)}.
 */
export async function requestFlood(node, requests, signal, { connections = 8, localAddress = ATTACKER_ADDRESS, onAnswer = () => {}, timeoutMs = 5000 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, localAddress });
  open.add(agent);
  let next = 0;
  let answered = 0;
  const failed = [];
  const worker = async () => {
    while (!signal.aborted) {
      const i = next++;
      if (i >= requests.length) return;
      const r = typeof requests[i] === 'function' ? requests[i]() : requests[i];
      const answer = await call(node, r, { agent, timeoutMs });
      if (answer.status === 0) failed.push(answer.error);
      else answered++;
      onAnswer(r, answer);
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    agent.destroy();
    open.delete(agent);
  }
  return { sent: Math.min(next, requests.length), answered, failed };
}

/**
 * One HTTP request with node:http (so it can go from another client
 * address through `agent`): resolves with {status (0 on a failure), headers,
 * text, body (parsed JSON or null), error}.
 */
export function call(node, { method = 'GET', path, headers = {}, body }, { agent, timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request(
      {
        host: '127.0.0.1', port: node.port, method, path, agent, timeout: timeoutMs,
        headers: { ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}), ...headers },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = null;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            parsed = null;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, body: parsed, error: null });
        });
        res.on('error', (e) => resolve({ status: 0, error: e.code ?? e.message }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => resolve({ status: 0, error: e.code ?? e.message }));
    req.end(data);
  });
}

/** A keep-alive agent from `localAddress` for call() (destroyed when the file ends). */
export function agentFrom(localAddress, connections = 4) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, localAddress });
  open.add(agent);
  return agent;
}

/** Opens a raw TCP connection from `localAddress` (for trickling attackers). */
export function rawSocket(node, localAddress = ATTACKER_ADDRESS) {
  return connectFrom(node.port, localAddress);
}

/** Forgets and destroys `socket` (an attacker done with it). */
export function drop(socket) {
  socket.destroy();
  open.delete(socket);
}
