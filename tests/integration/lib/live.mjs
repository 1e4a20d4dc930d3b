// live — helpers for the live-update tests: WebSocket clients on Node's `ws`
// package (openWs, nextFrame, request, closed), the server publish API
// (publish) and a per-test cluster whose sockets and nodes are gone when the
// test ends (liveCluster).
// Owns: the sockets it opens (terminated before their node stops) and each
// socket's record of received frames (`ws.frames`, every frame in arrival
// order; `ws.pending`, the ones no nextFrame/request has taken yet).
// Never: sleeps to let something happen (every wait is for a frame or a close,
// with a deadline), or compares offsets other than for equality (they are
// opaque).
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { API_KEY, api, startCluster } from './harness.mjs';

const DEFAULT_MS = 5000;
const sockets = new Map(); // node -> Set<WebSocket> opened to it

/** A channel id no other test (or run) uses: a random positive safe integer. */
export function uniqueId() {
  return 1e12 + Math.floor(Math.random() * 8e15);
}

/**
 * Starts `n` nodes forming one cluster with its own key prefix (`env` goes to
 * every node, as in startCluster) for test `t`. After the test: every socket
 * opened to them is terminated, then the nodes are stopped, and the test fails
 * if one did not exit 0 (a crash, or a sanitizer report).
 */
export async function liveCluster(t, n = 1, env = {}, { name = 'live' } = {}) {
  const nodes = await startCluster(n, env, { name });
  t.after(async () => {
    for (const node of nodes) for (const ws of sockets.get(node) ?? []) ws.terminate();
    const results = await Promise.all(nodes.map((node) => node.stop().then((r) => [node, r])));
    for (const [node, { code, signal }] of results) {
      sockets.delete(node);
      if (code !== 0) throw new Error(`${node.name} exited with ${code ?? signal}\n--- node log ---\n${node.logs}`);
    }
  });
  return nodes;
}

/**
 * Opens a WebSocket to `node`'s /ws and resolves with it once open.
 * `token`: sent as `Authorization: Bearer` (`via: 'header'`, the default) or as
 * `?access_token=` (`via: 'query'`); none = anonymous. permessage-deflate is
 * off, so frame sizes on the wire are the sizes sent. Rejects if the upgrade
 * is refused (with the HTTP status) or the connection fails.
 * The socket gets: `frames` (every frame received, parsed JSON; a text frame
 * that is not JSON as {raw}, a binary one as {binary}), `pending` (frames not
 * yet taken by nextFrame/request), `node`.
 */
export function openWs(node, { token, via = 'header', path = '/ws', headers = {} } = {}) {
  let url = node.url.replace(/^http/, 'ws') + path;
  const allHeaders = { ...headers };
  if (token !== undefined) {
    if (via === 'query') url += `${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`;
    else allHeaders.Authorization = `Bearer ${token}`;
  }
  const ws = new WebSocket(url, { headers: allHeaders, perMessageDeflate: false, handshakeTimeout: DEFAULT_MS });
  ws.node = node;
  ws.frames = [];
  ws.pending = [];
  ws.errors = [];
  ws.nextId = 0;
  ws.waiters = new Set();
  ws.closeInfo = null;
  if (!sockets.has(node)) sockets.set(node, new Set());
  sockets.get(node).add(ws);

  ws.on('message', (data, isBinary) => {
    let frame;
    if (isBinary) frame = { binary: Buffer.from(data) };
    else {
      const text = data.toString('utf8');
      try {
        frame = JSON.parse(text);
      } catch {
        frame = { raw: text };
      }
    }
    ws.frames.push(frame);
    ws.pending.push(frame);
    for (const w of [...ws.waiters]) w.check();
  });
  ws.on('error', (e) => ws.errors.push(e)); // reported through open/close below
  ws.closedPromise = new Promise((resolve) =>
    ws.on('close', (code, reason) => {
      ws.closeInfo = { code, reason: reason.toString('utf8') };
      sockets.get(node)?.delete(ws);
      for (const w of [...ws.waiters]) w.check();
      resolve(ws.closeInfo);
    }),
  );

  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      const refuse = () => {
        reject(new Error(`GET ${path}: upgrade refused with HTTP ${res.statusCode} ${body}`));
        ws.terminate();
      };
      res.on('end', refuse);
      res.on('error', refuse);
    });
    ws.once('close', () => reject(new Error(`GET ${path}: closed before open: ${ws.errors.map((e) => e.message).join('; ')}`)));
    ws.once('error', (e) => reject(new Error(`GET ${path}: ${e.message}`)));
  });
}

const show = (frames) => frames.slice(-10).map((f) => JSON.stringify(f).slice(0, 300)).join('\n  ');

/**
 * Waits for the first pending frame on `ws` that matches `predicate`, takes it
 * out of `ws.pending` and resolves with it. Fails after `ms`, or at once when
 * the socket closes with no such frame (the message shows the close code, the
 * last frames and the end of the node's log).
 */
export function nextFrame(ws, predicate, ms = DEFAULT_MS) {
  return new Promise((resolve, reject) => {
    const waiter = {
      check() {
        const i = ws.pending.findIndex((f) => predicate(f));
        if (i >= 0) {
          const [frame] = ws.pending.splice(i, 1);
          finish();
          resolve(frame);
        } else if (ws.closeInfo) {
          finish();
          reject(failure(`the socket closed (${ws.closeInfo.code} ${ws.closeInfo.reason})`));
        }
      },
    };
    const failure = (why) =>
      new Error(
        `${why} while waiting for a frame matching ${predicate.toString().slice(0, 200)}\n` +
          `last frames:\n  ${show(ws.frames)}\n--- end of node log ---\n${(ws.node?.logs ?? '').slice(-2000)}`,
      );
    const timer = setTimeout(() => {
      finish();
      reject(failure(`no such frame within ${ms} ms`));
    }, ms);
    const finish = () => {
      clearTimeout(timer);
      ws.waiters.delete(waiter);
    };
    ws.waiters.add(waiter);
    waiter.check();
  });
}

/**
 * Sends `frame` (an object) with a fresh `id` and resolves with the reply
 * carrying that id (ok or not: tests assert on it).
 */
export function request(ws, frame, ms = DEFAULT_MS) {
  const id = ++ws.nextId;
  const reply = nextFrame(ws, (f) => f.id === id, ms);
  ws.send(JSON.stringify({ ...frame, id }));
  return reply;
}

/** Subscribes and resolves with the reply; throws with the reply unless ok. */
export async function subscribe(ws, channel, since) {
  const reply = await request(ws, { op: 'subscribe', channel, ...(since !== undefined ? { since } : {}) });
  if (reply.ok !== true) throw new Error(`subscribe ${channel}: ${JSON.stringify(reply)}`);
  return reply;
}

/**
 * A predicate for a push on `channel` (optionally with `event`): a frame with
 * an `event` and no `ok`. (Tests of the push's shape check that it has no id.)
 */
export function pushOn(channel, event) {
  return (f) => f.ok === undefined && f.channel === channel && 'event' in f && (event === undefined || f.event === event);
}

/** Every push on `channel` the socket has received so far, in arrival order. */
export function pushesOn(ws, channel) {
  return ws.frames.filter(pushOn(channel));
}

/** Resolves with {code, reason} once `ws` has closed; fails after `ms`. */
export function closed(ws, ms = DEFAULT_MS) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the socket did not close within ${ms} ms; last frames:\n  ${show(ws.frames)}`)),
      ms,
    );
  });
  return Promise.race([ws.closedPromise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * POST /api/publish on `node` with header X-Api-Key (the harness's API_KEY
 * unless `apiKey` is given; null sends none) and body {channel, event, data,
 * hints?}. Resolves with {status, body, text, headers}.
 */
export async function publish(node, channel, event, data, hints, { apiKey = API_KEY } = {}) {
  const res = await api(node, 'POST', '/api/publish', {
    headers: apiKey === null ? {} : { 'X-Api-Key': apiKey },
    body: { channel, event, data, ...(hints !== undefined ? { hints } : {}) },
  });
  return { status: res.status, body: res.body, text: res.text, headers: res.headers };
}

/** Publishes and resolves with the offset; throws with the answer unless 202 {offset}. */
export async function published(node, channel, event, data, hints) {
  const res = await publish(node, channel, event, data, hints);
  if (res.status !== 202 || typeof res.body?.offset !== 'string')
    throw new Error(`publish to ${channel}: HTTP ${res.status} ${res.text}`);
  return res.body.offset;
}

/**
 * Asserts that `reply` is an error reply {id?, ok:false, error:{code, message}}
 * with `code` and a non-empty message; `what` names the attempt in failures.
 */
export function assertRefused(reply, code, what = 'the request') {
  const text = `${what}: ${JSON.stringify(reply)}`;
  assert.equal(reply.ok, false, text);
  assert.equal(reply.error?.code, code, text);
  assert.equal(typeof reply.error.message, 'string', text);
  assert.ok(reply.error.message.length > 0, `${text}: the message is empty`);
}
