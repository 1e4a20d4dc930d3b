// badinput — helpers for the bad-input suite (badinput_*.test.mjs): a raw
// WebSocket client on a plain TCP socket (a hand-made upgrade, frames built
// byte by byte so they can break RFC 6455 in ways the `ws` package never
// would: unmasked, wrongly masked, reserved bits, fragmented control frames,
// frames after the close), raw HTTP exchanges that keep the socket open, and
// snapshots of the stored data a refused request must not change (rows of
// the users involved in PostgreSQL, the cluster's keys in Redis).
// Owns: the raw sockets it opens (every one is destroyed when the test file
// ends, if the test did not close it).
// Never: waits for time — every wait is for bytes, a frame or a close, with
// a deadline; decides what a node should answer (the tests assert that).
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { api, readBody, redis, sql } from './harness.mjs';
import { openWs, subscribe, request, published, nextFrame, pushOn, uniqueId } from './live.mjs';

const DEFAULT_MS = 5000;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const open = new Set();
after(() => {
  for (const s of open) s.destroy();
  open.clear();
});

/** The Sec-WebSocket-Accept a server must answer to `key`. */
export function acceptFor(key) {
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

// ------------------------------------------------------------ raw sockets

/**
 * A TCP connection to 127.0.0.1:`port` that records what it receives:
 * {socket, data() (all bytes so far, a Buffer), ended (true once closed),
 * closedPromise, write(bytes), until(check, {ms, what}) (waits until
 * check(data) is truthy and resolves with it; fails at the deadline, or
 * once the socket closed with check still falsy), destroy()}.
 */
export function rawConnection(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    open.add(socket);
    const chunks = [];
    const waiters = new Set();
    const conn = {
      socket,
      ended: false,
      error: null,
      data: () => Buffer.concat(chunks),
      write: (bytes) => new Promise((ok) => (socket.writable ? socket.write(bytes, () => ok()) : ok())),
      destroy: () => socket.destroy(),
      until(check, { ms = DEFAULT_MS, what = 'a condition' } = {}) {
        return new Promise((ok, fail) => {
          const waiter = () => {
            let value;
            try {
              value = check(conn.data());
            } catch (e) {
              done();
              fail(e);
              return;
            }
            if (value) {
              done();
              ok(value);
            } else if (conn.ended) {
              done();
              fail(new Error(`the connection closed before ${what}; received: ${JSON.stringify(conn.data().toString('latin1').slice(0, 500))}`));
            }
          };
          const timer = setTimeout(() => {
            done();
            fail(new Error(`no ${what} within ${ms} ms; received: ${JSON.stringify(conn.data().toString('latin1').slice(0, 500))}`));
          }, ms);
          const done = () => {
            clearTimeout(timer);
            waiters.delete(waiter);
          };
          waiters.add(waiter);
          waiter();
        });
      },
    };
    const poke = () => {
      for (const w of [...waiters]) w();
    };
    conn.closedPromise = new Promise((ok) =>
      socket.on('close', () => {
        conn.ended = true;
        open.delete(socket);
        poke();
        ok();
      }),
    );
    socket.on('data', (d) => {
      chunks.push(d);
      poke();
    });
    socket.on('error', (e) => {
      conn.error = e; // a reset is a close like any other here
    });
    socket.once('connect', () => resolve(conn));
    socket.once('error', (e) => {
      if (!socket.connecting) return;
      reject(e);
    });
  });
}

/** Resolves once `conn` has closed; fails after `ms` (the server kept it open). */
export async function connectionClosed(conn, ms = DEFAULT_MS, what = 'the server to close the connection') {
  await conn.until(() => false, { ms, what }).catch((e) => {
    if (!conn.ended) throw e;
  });
}

/** The HTTP responses in `text` (latin1): [{status, head, body}] (bodies by Content-Length). */
export function httpResponses(text) {
  const out = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (!rest.startsWith('HTTP/') || end < 0) break;
    const head = rest.slice(0, end);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    const body = rest.slice(end + 4, end + 4 + length);
    out.push({ status, head, body, json: (() => { try { return JSON.parse(body); } catch { return null; } })() });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

// --------------------------------------------------------- raw WebSocket

/**
 * Builds one WebSocket frame. `payload` (Buffer or string), `opcode` (1 text,
 * 2 binary, 0 continuation, 8 close, 9 ping, 10 pong), `fin`, `rsv` (the
 * three reserved bits as a number 0..7), `mask` (whether the mask bit is
 * set), `maskKey` (the key written in the header), `maskWith` (the key the
 * payload is actually XORed with — a different one masks "wrongly"),
 * `length` (the length written in the header, if it must lie).
 */
export function wsFrame({ opcode = 1, payload = Buffer.alloc(0), fin = true, rsv = 0, mask = true, maskKey, maskWith, length } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const key = maskKey ?? randomBytes(4);
  const xorKey = maskWith ?? key;
  const n = length ?? data.length;
  const head = [((fin ? 1 : 0) << 7) | ((rsv & 7) << 4) | (opcode & 15)];
  const m = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (typeof n === 'bigint' || n > 0xffff) {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(n));
  } else if (n > 125) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(n);
  } else head.push(m | n);
  const body = mask ? Buffer.from(data.map((b, i) => b ^ xorKey[i % 4])) : data;
  return Buffer.concat([Buffer.from(head), ext, mask ? key : Buffer.alloc(0), body]);
}

/** A close frame's payload: the code (2 bytes) and the reason. */
export function closePayload(code, reason = '') {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, Buffer.from(reason, 'utf8')]);
}

/** Parses the server's frames in `bytes` (unmasked, as a server sends them); stops at an incomplete one. */
export function parseServerFrames(bytes) {
  const frames = [];
  let i = 0;
  while (i + 2 <= bytes.length) {
    const b0 = bytes[i];
    const b1 = bytes[i + 1];
    let n = b1 & 0x7f;
    let p = i + 2;
    if (n === 126) {
      if (p + 2 > bytes.length) break;
      n = bytes.readUInt16BE(p);
      p += 2;
    } else if (n === 127) {
      if (p + 8 > bytes.length) break;
      n = Number(bytes.readBigUInt64BE(p));
      p += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked) p += 4;
    if (p + n > bytes.length) break;
    const payload = bytes.subarray(p, p + n);
    const frame = { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 15, masked, payload };
    if (frame.opcode === 1) frame.text = payload.toString('utf8');
    if (frame.opcode === 8) {
      frame.code = payload.length >= 2 ? payload.readUInt16BE(0) : null;
      frame.reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
    }
    frames.push(frame);
    i = p + n;
  }
  return frames;
}

/**
 * Opens /ws (or `path`) by hand: sends the upgrade request (with `headers`,
 * which may replace the standard ones: pass a value null to leave one out)
 * and waits for the response head. Resolves with {conn, status, head,
 * accepted (the Sec-WebSocket-Accept is right), frames() (the server's
 * frames so far), send(frameBytes), text(json) (a well-formed masked text
 * frame), frame(predicate, ms), closed(ms) ({code, reason} of the server's
 * close frame, or null without one, once the socket has closed)}.
 */
export async function rawWs(node, { path = '/ws', headers = {} } = {}) {
  const key = randomBytes(16).toString('base64');
  const all = {
    Host: `127.0.0.1:${node.port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  const lines = Object.entries(all).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k}: ${v}`);
  const conn = await rawConnection(node.port);
  await conn.write(`GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  const headEnd = await conn.until((d) => {
    const i = d.indexOf('\r\n\r\n');
    return i >= 0 ? i + 4 : 0;
  }, { what: 'the upgrade response head' });
  const head = conn.data().subarray(0, headEnd).toString('latin1');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const accept = /\r\nsec-websocket-accept: *([^\r]+)/i.exec(head)?.[1];
  const frames = () => parseServerFrames(conn.data().subarray(headEnd));
  const ws = {
    conn,
    status,
    head,
    accepted: status === 101 && accept === acceptFor(key),
    frames,
    send: (bytes) => conn.write(bytes),
    text: (value) => conn.write(wsFrame({ opcode: 1, payload: typeof value === 'string' ? value : JSON.stringify(value) })),
    frame(predicate, ms = DEFAULT_MS) {
      return conn.until(() => frames().find(predicate), { ms, what: `a frame matching ${predicate.toString().slice(0, 150)}` });
    },
    async closed(ms = DEFAULT_MS) {
      await connectionClosed(conn, ms, 'the server to close the WebSocket');
      const close = frames().find((f) => f.opcode === 8);
      return close ? { code: close.code, reason: close.reason } : null;
    },
    /** The JSON text frames received (replies and pushes), parsed. */
    json: () => frames().filter((f) => f.opcode === 1).map((f) => { try { return JSON.parse(f.text); } catch { return { raw: f.text }; } }),
  };
  return ws;
}

// -------------------------------------------------- "the node still serves"

// The channels assertServing published on: their keys are the check's own
// doing, not the bad input's, so redisState leaves them out.
const servingChannels = new Set();

/**
 * Asserts that `node` still serves everyone: GET /healthz is 200, and a new
 * WebSocket subscribes and receives a message published through the node.
 */
export async function assertServing(node, what = 'after the bad input') {
  const health = await fetch(`${node.url}/healthz`);
  assert.equal(health.status, 200, `${what}: GET /healthz`);
  await health.arrayBuffer();
  const channel = `comments:chapter:${uniqueId()}`;
  servingChannels.add(channel);
  const ws = await openWs(node);
  await subscribe(ws, channel);
  const offset = await published(node, channel, 'comment.created', { check: 'serving' });
  const push = await nextFrame(ws, pushOn(channel));
  assert.equal(push.offset, offset, `${what}: a fresh WebSocket round trip works`);
  assert.deepEqual(await request(ws, { op: 'ping' }), { id: 2, ok: true });
  ws.close();
}

// ---------------------------------------------------- stored-data snapshots

const list = (ids) => ids.map((id) => Number(id)).filter(Number.isSafeInteger).join(',') || '0';

/**
 * What PostgreSQL holds about `userIds`: their user rows, wallets, books
 * (and those books' chapters and follows), comments, follows, gifts (from
 * or to), purchases, notifications and fan-out jobs — as one comparable
 * text per table. `extra` adds named queries.
 */
export function dbState(userIds, extra = {}) {
  const u = list(userIds);
  const q = {
    users: `SELECT id, username, display_name, bio, follower_count, deleted_at FROM users WHERE id IN (${u}) ORDER BY id`,
    wallets: `SELECT user_id, coins FROM wallets WHERE user_id IN (${u}) ORDER BY user_id`,
    books: `SELECT id, author_id, title, description, published, chapter_count, updated_at FROM books WHERE author_id IN (${u}) ORDER BY id`,
    chapters: `SELECT c.id, c.book_id, c.number, c.title, md5(c.body), c.updated_at FROM chapters c JOIN books b ON b.id = c.book_id WHERE b.author_id IN (${u}) ORDER BY c.id`,
    comments: `SELECT id, chapter_id, user_id, md5(body) FROM comments WHERE user_id IN (${u}) ORDER BY id`,
    follows: `SELECT f.user_id, f.book_id FROM follows f LEFT JOIN books b ON b.id = f.book_id WHERE f.user_id IN (${u}) OR b.author_id IN (${u}) ORDER BY 1, 2`,
    gifts: `SELECT id, from_user_id, to_user_id, coins, idempotency_key FROM gifts WHERE from_user_id IN (${u}) OR to_user_id IN (${u}) ORDER BY id`,
    purchases: `SELECT id, user_id, package_id, coins FROM purchases WHERE user_id IN (${u}) ORDER BY id`,
    notifications: `SELECT id, user_id, kind, read FROM notifications WHERE user_id IN (${u}) ORDER BY id`,
    fanout_jobs: `SELECT id, book_id, chapter_id FROM fanout_jobs WHERE author_id IN (${u}) ORDER BY id`,
    ...extra,
  };
  return Object.fromEntries(Object.entries(q).map(([name, query]) => [name, sql(query)]));
}

// Keys that change on their own while a node runs (presence, heartbeats,
// per-second rate counters) or that are a derived copy of reads (cached
// values, their metadata — group versions, member sets, the version serial —
// and load leases): not "stored data".
const VOLATILE = /^(po$|pu:|cp:|n:|nd$|ns$|r:|v:|g:|m:|l:|gs$)/;

// One round trip: every key under the prefix with its type and a digest of
// its content (members, not scores, for sorted sets; length and newest id
// for streams).
const DIGEST = `
local out = {}
for _, k in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do
  local t = redis.call('TYPE', k)['ok']
  local d = ''
  if t == 'string' then d = redis.sha1hex(redis.call('GET', k))
  elseif t == 'stream' then
    local last = redis.call('XREVRANGE', k, '+', '-', 'COUNT', 1)
    d = redis.call('XLEN', k) .. '/' .. (last[1] and last[1][1] or '')
  elseif t == 'list' then d = redis.sha1hex(table.concat(redis.call('LRANGE', k, 0, -1), '\\n'))
  elseif t == 'hash' then
    local f = redis.call('HGETALL', k)
    local pairs_ = {}
    for i = 1, #f, 2 do pairs_[#pairs_ + 1] = f[i] .. '=' .. f[i + 1] end
    table.sort(pairs_)
    d = redis.sha1hex(table.concat(pairs_, '\\n'))
  elseif t == 'set' then
    local m = redis.call('SMEMBERS', k)
    table.sort(m)
    d = redis.sha1hex(table.concat(m, '\\n'))
  elseif t == 'zset' then d = redis.sha1hex(table.concat(redis.call('ZRANGE', k, 0, -1), '\\n'))
  end
  out[#out + 1] = k .. ' ' .. t .. ' ' .. d
end
return out`;

/** The stored keys under `prefix` (volatile ones left out) as sorted "key type digest" lines. */
export function redisState(prefix) {
  assert.ok(prefix, 'redisState needs the node\'s key prefix');
  return redis('--raw', 'EVAL', DIGEST, '0', prefix)
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length))
    .filter((line) => {
      const name = line.slice(0, line.lastIndexOf(' ', line.lastIndexOf(' ') - 1));
      return !VOLATILE.test(name) && !servingChannels.has(name.slice(name.indexOf(':') + 1));
    })
    .sort();
}

/**
 * A snapshot of what a refused request must not change: dbState(userIds,
 * extra) and redisState(prefix). Compare two with assertUnchanged.
 */
export function snapshot(prefix, userIds, extra) {
  return { db: dbState(userIds, extra), redis: redisState(prefix) };
}

/** Asserts that nothing stored changed between snapshot `before` and now. */
export function assertUnchanged(before, prefix, userIds, what, extra) {
  const now = snapshot(prefix, userIds, extra);
  for (const table of Object.keys(before.db))
    assert.equal(now.db[table], before.db[table], `${what}: PostgreSQL ${table} changed`);
  const added = now.redis.filter((k) => !before.redis.includes(k));
  const removed = before.redis.filter((k) => !now.redis.includes(k));
  assert.deepEqual({ added, removed }, { added: [], removed: [] }, `${what}: Redis keys under the prefix changed`);
}

/**
 * Sends `body` (raw text or Buffer) with `method` to `path` on `node`:
 * headers as given (no Content-Type unless given). Resolves like api().
 */
export async function rawApi(node, method, path, { body, headers = {}, token } = {}) {
  const res = await fetch(node.url + path, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body,
  });
  const { text, body: parsed } = await readBody(res);
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export { api };
