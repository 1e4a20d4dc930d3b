// live — helpers for the live-update tests: WebSocket clients on Node's `ws`
// package (openWs, nextFrame, request, closed), Server-Sent Events streams
// read with fetch() and parsed here (openSse, parseSse, nextEvent, sseUntil,
// sseEnded), EventSource clients (openEventSource, on the `eventsource`
// package), a TCP forwarder to cut and redirect connections (tcpProxy), the
// server publish API (publish) and a per-test cluster whose sockets, streams
// and nodes are gone when the test ends (liveCluster).
// Owns: the sockets, streams and EventSources it opens (closed before their
// node stops) and each one's record of what it received (`ws.frames`, every
// frame in arrival order; `ws.pending`, the ones no nextFrame/request has
// taken yet; `stream.events` / `stream.pending` / `stream.comments` alike).
// Never: sleeps to let something happen (every wait is for a frame, an event
// or a close, with a deadline), or compares offsets or SSE ids other than for
// equality (they are opaque).
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import EventSource from 'eventsource';
import { API_KEY, api, startCluster, waitFor } from './harness.mjs';

const DEFAULT_MS = 5000;
const sockets = new Map(); // node -> Set<WebSocket> opened to it
const streams = new Map(); // node -> Set<SSE stream or EventSource> opened to it (or through a proxy to it)
const track = (map, node, item) => {
  if (!map.has(node)) map.set(node, new Set());
  map.get(node).add(item);
};

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
export async function liveCluster(t, n = 1, env = {}, { name = 'live', nodeEnv = [] } = {}) {
  const nodes = await startCluster(n, env, { name, nodeEnv });
  t.after(async () => {
    for (const node of nodes) for (const ws of sockets.get(node) ?? []) ws.terminate();
    await Promise.all(nodes.flatMap((node) => [...(streams.get(node) ?? [])].map((s) => s.close())));
    const results = await Promise.all(nodes.map((node) => node.stop().then((r) => [node, r])));
    for (const [node, { code, signal }] of results) {
      sockets.delete(node);
      streams.delete(node);
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
 * is refused (with the HTTP status) or the connection fails. `localAddress`:
 * the client's source address (127.0.0.x: another client, to the node).
 * The socket gets: `frames` (every frame received, parsed JSON; a text frame
 * that is not JSON as {raw}, a binary one as {binary}), `pending` (frames not
 * yet taken by nextFrame/request), `node`.
 */
export function openWs(node, { token, via = 'header', path = '/ws', headers = {}, localAddress } = {}) {
  let url = node.url.replace(/^http/, 'ws') + path;
  const allHeaders = { ...headers };
  if (token !== undefined) {
    if (via === 'query') url += `${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`;
    else allHeaders.Authorization = `Bearer ${token}`;
  }
  const ws = new WebSocket(url, {
    headers: allHeaders, perMessageDeflate: false, handshakeTimeout: DEFAULT_MS, ...(localAddress ? { localAddress } : {}),
  });
  ws.node = node;
  ws.frames = [];
  ws.texts = []; // the text frames as received (bytes-exact), in arrival order
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
      ws.texts.push(text);
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
 * Without `event`, presence announcements (presence.join/leave, which collab
 * channels get whenever a signed-in user arrives or goes) are not matched:
 * ask for them by name.
 */
export function pushOn(channel, event) {
  return (f) =>
    f.ok === undefined &&
    f.channel === channel &&
    'event' in f &&
    (event === undefined ? !String(f.event).startsWith('presence.') : f.event === event);
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

// ---------------------------------------------------------------- SSE

/**
 * An incremental text/event-stream parser: feed it decoded text in any
 * chunks; it calls `onBlock(record)` for every block ended by a blank line.
 * Lines end with \n, \r\n or \r; `name: value` loses one space after the
 * colon; a line starting with ':' is a comment. A record is
 * {raw (the block's exact text, blank line included), comments: [text],
 * fields: [[name, value]], id, event, data (data lines joined with \n), json
 * (data parsed, or undefined)} — `id`/`event`/`data` are undefined when the
 * block has no such field.
 */
export function sseParser(onBlock) {
  let buffer = '';
  let raw = '';
  let lines = [];
  return (chunk) => {
    buffer += chunk;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(buffer);
      if (!m || (m[0] === '\r' && m.index === buffer.length - 1)) break; // a \r may be half of \r\n
      const line = buffer.slice(0, m.index);
      raw += buffer.slice(0, m.index + m[0].length);
      buffer = buffer.slice(m.index + m[0].length);
      if (line !== '') {
        lines.push(line);
        continue;
      }
      const record = { raw, comments: [], fields: [], id: undefined, event: undefined, data: undefined, json: undefined };
      for (const l of lines) {
        if (l.startsWith(':')) {
          record.comments.push(l.slice(1).replace(/^ /, ''));
          continue;
        }
        const colon = l.indexOf(':');
        const name = colon < 0 ? l : l.slice(0, colon);
        const value = colon < 0 ? '' : l.slice(colon + 1).replace(/^ /, '');
        record.fields.push([name, value]);
        if (name === 'id') record.id = value;
        else if (name === 'event') record.event = value;
        else if (name === 'data') record.data = record.data === undefined ? value : `${record.data}\n${value}`;
      }
      if (record.data !== undefined) {
        try {
          record.json = JSON.parse(record.data);
        } catch {
          record.json = undefined;
        }
      }
      raw = '';
      lines = [];
      onBlock(record);
    }
  };
}

/** Parses a whole text/event-stream text; returns its records (see sseParser). */
export function parseSse(text) {
  const out = [];
  sseParser((r) => out.push(r))(text);
  return out;
}

const enc = (v) => encodeURIComponent(v).replace(/%2C/gi, ',').replace(/%3A/gi, ':');

/**
 * The path and query of an SSE request: `/sse?channels=a,b` (channels
 * given as an array or a string; commas and colons unescaped, as people
 * write them), plus `access_token` when `token` goes `via: 'query'`,
 * `last_event_id` when `lastEventId` goes `lastEventIdVia: 'query'`, and
 * any `query` pairs. `channels: undefined` leaves the parameter out.
 */
export function ssePath({ channels, token, via = 'header', lastEventId, lastEventIdVia = 'header', query = {}, path = '/sse' } = {}) {
  const params = [];
  if (channels !== undefined) params.push(`channels=${enc(Array.isArray(channels) ? channels.join(',') : channels)}`);
  if (token !== undefined && via === 'query') params.push(`access_token=${enc(token)}`);
  if (lastEventId !== undefined && lastEventIdVia === 'query') params.push(`last_event_id=${enc(lastEventId)}`);
  for (const [k, v] of Object.entries(query)) params.push(`${enc(k)}=${enc(v)}`);
  return params.length ? `${path}?${params.join('&')}` : path;
}

/**
 * Opens GET /sse on `node` with fetch() (options as in ssePath; `token` goes
 * as `Authorization: Bearer` unless `via: 'query'`, `lastEventId` as header
 * `Last-Event-ID` unless `lastEventIdVia: 'query'`; `headers` are added).
 * Resolves once the response head is in:
 * - not 200: {ok: false, status, headers, text, body (parsed JSON or null)};
 * - 200: a stream {ok: true, status, headers, node, path, records (every
 *   block in arrival order, each with `at`, its arrival time), events (the
 *   blocks with a data field), pending (events no nextEvent has taken yet),
 *   comments (the comment-only blocks), ended (true once the server closed
 *   or the stream failed), endReason, close() (aborts; resolves when the
 *   reader is done)}.
 * A stream is closed by liveCluster's cleanup if the test does not close it.
 */
export async function openSse(node, options = {}) {
  const { token, via = 'header', lastEventId, lastEventIdVia = 'header', headers = {}, ms = DEFAULT_MS } = options;
  const path = ssePath(options);
  const allHeaders = { Accept: 'text/event-stream', ...headers };
  if (token !== undefined && via !== 'query') allHeaders.Authorization = `Bearer ${token}`;
  if (lastEventId !== undefined && lastEventIdVia !== 'query') allHeaders['Last-Event-ID'] = lastEventId;
  const controller = new AbortController();
  const headTimer = setTimeout(() => controller.abort(new Error(`GET ${path}: no response head within ${ms} ms`)), ms);
  let res;
  try {
    res = await fetch(node.url + path, { headers: allHeaders, signal: controller.signal });
  } finally {
    clearTimeout(headTimer);
  }
  if (res.status !== 200) {
    const text = await res.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    return { ok: false, status: res.status, headers: res.headers, text, body };
  }
  const stream = {
    ok: true,
    status: res.status,
    headers: res.headers,
    node,
    path,
    records: [],
    events: [],
    pending: [],
    comments: [],
    ended: false,
    endReason: null,
    waiters: new Set(),
    closing: false,
  };
  const parse = sseParser((record) => {
    record.at = Date.now();
    stream.records.push(record);
    if (record.data !== undefined) {
      stream.events.push(record);
      stream.pending.push(record);
    } else stream.comments.push(record);
    for (const w of [...stream.waiters]) w.check();
  });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  stream.done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          stream.endReason = 'the server ended the stream';
          break;
        }
        parse(decoder.decode(value, { stream: true }));
      }
    } catch (e) {
      stream.endReason = stream.closing ? 'closed by the test' : `the stream failed: ${e.message}`;
    }
    stream.ended = true;
    streams.get(node)?.delete(stream);
    for (const w of [...stream.waiters]) w.check();
  })();
  stream.close = async () => {
    if (!stream.ended) {
      stream.closing = true;
      controller.abort();
    }
    await stream.done;
  };
  track(streams, node, stream);
  return stream;
}

/** Opens an SSE stream and resolves with it; throws with the answer unless it is 200. */
export async function sse(node, options) {
  const s = await openSse(node, options);
  if (!s.ok) throw new Error(`GET ${ssePath(options)}: HTTP ${s.status} ${s.text}`);
  return s;
}

const showRecords = (records) => records.slice(-10).map((r) => JSON.stringify(r.raw).slice(0, 300)).join('\n  ');

/**
 * Waits until `check()` (called at once and after every block and at the
 * end) returns a truthy value, and resolves with it. Fails after `ms`, or as
 * soon as the stream has ended with `check()` still falsy.
 */
export function sseUntil(stream, check, { ms = DEFAULT_MS, what = 'a condition' } = {}) {
  return new Promise((resolve, reject) => {
    const failure = (why) =>
      new Error(
        `${why} while waiting for ${what} on ${stream.path.slice(0, 200)}\nlast blocks:\n  ${showRecords(stream.records)}\n` +
          `--- end of node log ---\n${(stream.node?.logs ?? '').slice(-2000)}`,
      );
    const waiter = {
      check() {
        let value;
        try {
          value = check();
        } catch (e) {
          finish();
          reject(e);
          return;
        }
        if (value) {
          finish();
          resolve(value);
        } else if (stream.ended) {
          finish();
          reject(failure(`the stream ended (${stream.endReason})`));
        }
      },
    };
    const timer = setTimeout(() => {
      finish();
      reject(failure(`nothing within ${ms} ms`));
    }, ms);
    const finish = () => {
      clearTimeout(timer);
      stream.waiters.delete(waiter);
    };
    stream.waiters.add(waiter);
    waiter.check();
  });
}

/**
 * Waits for the first pending event matching `predicate` (given the record),
 * takes it out of `stream.pending` and resolves with it.
 */
export function nextEvent(stream, predicate = () => true, ms = DEFAULT_MS) {
  return sseUntil(
    stream,
    () => {
      const i = stream.pending.findIndex((r) => predicate(r));
      return i >= 0 && stream.pending.splice(i, 1)[0];
    },
    { ms, what: `an event matching ${predicate.toString().slice(0, 200)}` },
  );
}

/**
 * Makes sure a client receives `channels` before a test relies on it: for
 * each channel, publishes event 'probe' with data {probe: n} through `node`
 * until `arrived(channel)` says a probe of that channel came (fails after
 * `ms`). Tests leave probes out of their checks (isProbe). With a stream from
 * openSse, `arrived` may be the stream itself.
 */
export async function joined(node, channels, arrived, { ms = DEFAULT_MS } = {}) {
  const has =
    typeof arrived === 'function' ? arrived : (ch) => arrived.events.some((r) => r.event === 'probe' && r.json?.channel === ch);
  let n = 0;
  for (const channel of channels)
    await waitFor(
      async () => {
        if (has(channel)) return true;
        await published(node, channel, 'probe', { probe: ++n });
        return false;
      },
      { ms, every: 50, what: `a probe to arrive on ${channel}` },
    );
}

/** Whether a push (parsed) or an SSE record is a probe of `joined`. */
export const isProbe = (p) => (p?.json ?? p)?.event === 'probe';

/** A predicate for an SSE event whose push is on `channel` (and has data.seq === seq, if given). */
export function sseOn(channel, seq) {
  return (r) => r.json?.channel === channel && (seq === undefined || r.json?.data?.seq === seq);
}

/** The pushes (parsed data) on `channel` the stream has received so far, in arrival order. */
export function ssePushesOn(stream, channel) {
  return stream.events.filter((r) => sseOn(channel)(r) && !isProbe(r)).map((r) => r.json);
}

/** Resolves once the server has ended `stream`; fails after `ms`. */
export function sseEnded(stream, ms = DEFAULT_MS) {
  return sseUntil(stream, () => stream.ended, { ms, what: 'the stream to end' });
}

/**
 * An EventSource (`eventsource` package, as a browser's) on `url` with
 * `init` ({headers}) — kept, with every event it dispatched as
 * {type, lastEventId, data} in `es.received`, and closed by liveCluster's
 * cleanup of `node` (the node it reaches, directly or through a proxy).
 * `types` are the event names to listen for (named events reach only their
 * listeners). `es.opens` counts 'open' events, `es.errors` 'error' events.
 */
export function openEventSource(node, url, init = {}, types = []) {
  const es = new EventSource(url, init);
  es.received = [];
  es.opens = 0;
  es.errors = [];
  es.waiters = new Set();
  const changed = () => {
    for (const w of [...es.waiters]) w();
  };
  for (const type of ['message', ...types])
    es.addEventListener(type, (e) => {
      es.received.push({ type: e.type, lastEventId: e.lastEventId, data: e.data });
      changed();
    });
  es.addEventListener('open', () => {
    es.opens++;
    changed();
  });
  es.addEventListener('error', (e) => {
    es.errors.push(e);
    changed();
  });
  const item = {
    close: async () => {
      es.close();
      streams.get(node)?.delete(item);
    },
  };
  es.closeTracked = item.close;
  track(streams, node, item);
  return es;
}

/** Waits until `check()` is truthy after some EventSource activity (or now); fails after `ms`. */
export function esUntil(es, check, { ms = DEFAULT_MS, what = 'a condition' } = {}) {
  return new Promise((resolve, reject) => {
    const run = () => {
      const value = check();
      if (value) {
        finish();
        resolve(value);
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(
        new Error(
          `nothing within ${ms} ms while waiting for ${what}; readyState ${es.readyState}, ` +
            `received:\n  ${es.received.slice(-10).map((r) => JSON.stringify(r).slice(0, 300)).join('\n  ')}\n` +
            `errors: ${es.errors.map((e) => e.message ?? e.status ?? e.type).join('; ')}`,
        ),
      );
    }, ms);
    const finish = () => {
      clearTimeout(timer);
      es.waiters.delete(run);
    };
    es.waiters.add(run);
    run();
  });
}

/**
 * A TCP forwarder on 127.0.0.1 to `target` (anything with a `port`: a node, a
 * Redis server): {port, url, retarget(node) (new connections go there), cut()
 * (drops every forwarded connection), refuse(yes) (while yes, new connections
 * are dropped at once: the target looks unreachable), close()}. For tests of
 * clients that reconnect on their own.
 */
export async function tcpProxy(target) {
  let port = target.port;
  let refusing = false;
  const pairs = new Set();
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(port, '127.0.0.1');
    const pair = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const proxy = {
    port: server.address().port,
    get url() {
      return `http://127.0.0.1:${this.port}`;
    },
    retarget(node) {
      port = node.port;
    },
    refuse(yes) {
      refusing = yes;
      if (yes) proxy.cut();
    },
    cut() {
      for (const [a, b] of [...pairs]) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    close() {
      proxy.cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
