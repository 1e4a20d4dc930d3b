// followers — the soak's clients: WebSocket and SSE followers of one channel
// each, through the balancer, that behave like real clients when cut off
// (reconnect with a jittered backoff and resume: `since` on WebSocket,
// Last-Event-ID on SSE) and check every push as it arrives instead of
// keeping it (thousands of clients × half an hour of pushes would not fit).
// nginx allows 256 connections per client address, so followers bind
// source addresses 127.0.0.2, 127.0.0.3, … (the whole of 127/8 is local on
// Linux), FOLLOWERS_PER_ADDRESS on each.
// Owns: the followers' sockets and the delivery ledger: what each channel's
// offsets carried (offset → seq, over every follower), the live-delivery
// latency histogram, and the problems seen (gaps, repeats, reorders, a push
// before its subscribe reply, two followers seeing different messages at
// one offset).
// Never: compares offsets other than for equality and succession (the
// protocol numbers a channel's messages consecutively); waits without a
// deadline; sleeps other than a reconnecting client's backoff.
import http from 'node:http';
import { createRequire } from 'node:module';
import { ssePath, sseParser } from '../../tests/integration/lib/live.mjs';

const WebSocket = createRequire(new URL('../../tests/integration/package.json', import.meta.url))('ws');

export const FOLLOWERS_PER_ADDRESS = 200; // under nginx's limit_conn of 256 per client address
const RECONNECT_GIVE_UP_MS = 60000;
const HANDSHAKE_MS = 10000;
const CLOSE_MS = 5000;
const SUBSCRIBE_ID = 1;
const PROBLEMS_KEPT = 50;

/** Delivery latencies in whole milliseconds, up to a minute (longer ones count in the last bucket). */
export class LatencyHistogram {
  constructor(maxMs = 60000) {
    this.buckets = new Uint32Array(maxMs + 1);
    this.count = 0;
    this.max = 0;
  }

  add(ms) {
    const bucket = Math.min(Math.max(0, Math.round(ms)), this.buckets.length - 1);
    this.buckets[bucket]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The smallest latency (ms) at or under which `fraction` of the deliveries fall; null if none. */
  percentile(fraction) {
    if (this.count === 0) return null;
    const rank = Math.ceil(fraction * this.count);
    let seen = 0;
    for (let ms = 0; ms < this.buckets.length; ms++) {
      seen += this.buckets[ms];
      if (seen >= rank) return ms;
    }
    return this.buckets.length - 1;
  }
}

/** What every follower received, as far as the checks need it. */
export function createLedger() {
  return {
    seqAt: new Map(), // channel -> Map(offset -> seq carried there)
    live: new LatencyHistogram(), // publish → receipt, for pushes published while the follower was subscribed
    problems: [],
    problemCount: 0,
    problem(text) {
      this.problemCount++;
      if (this.problems.length < PROBLEMS_KEPT) this.problems.push(text);
    },
  };
}

const who = (f) => `${f.kind} follower ${f.index} (${f.channel})`;

/**
 * One push of `f`'s channel, received by a session subscribed since
 * `subscribedAt`: it must carry the offset after the last one `f` knows (any,
 * for an SSE follower's very first push), and the same seq every other
 * follower saw at that offset. Published before the session began (data.at,
 * the publish attempt's clock): replayed history; else a live delivery,
 * whose latency is recorded.
 */
function received(f, push, subscribedAt, ledger) {
  const offset = BigInt(push.offset);
  if (f.position !== null) {
    const due = BigInt(f.position) + 1n;
    if (offset !== due)
      ledger.problem(`${who(f)}: offset ${push.offset} where ${due} was due (${offset < due ? 'a repeat or a reorder' : 'a gap'})`);
  }
  f.position = push.offset;
  f.firstOffset ??= push.offset;
  f.received++;
  const seq = push.data?.seq;
  let seqs = ledger.seqAt.get(f.channel);
  if (!seqs) ledger.seqAt.set(f.channel, (seqs = new Map()));
  const seen = seqs.get(push.offset);
  if (seen === undefined) seqs.set(push.offset, seq);
  else if (seen !== seq) ledger.problem(`${who(f)}: offset ${push.offset} carries seq ${seq}; another follower got seq ${seen} there`);
  const publishedAt = push.data?.at;
  if (typeof publishedAt === 'number' && publishedAt >= subscribedAt) ledger.live.add(Date.now() - publishedAt);
  else f.replayed++;
}

/**
 * A WebSocket session: connects, subscribes (with `since` = the last offset
 * known, once there is one), resolves once the reply is in; rejects if the
 * attempt failed (err.refused: the node answered no — not worth retrying).
 * `onEnded` runs when a subscribed session's socket closes.
 */
function openWsSession(f, balancer, ledger, onEnded) {
  return new Promise((resolve, reject) => {
    const since = f.position;
    const ws = new WebSocket(`${balancer.url.replace(/^http/, 'ws')}/ws`, {
      localAddress: f.localAddress,
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_MS,
    });
    let subscribedAt = null;
    let error = null;
    const closed = new Promise((done) => ws.once('close', done));
    let unanswered = null; // the subscribe reply's deadline
    ws.on('open', () => {
      ws.send(JSON.stringify({ id: SUBSCRIBE_ID, op: 'subscribe', channel: f.channel, ...(since !== null ? { since } : {}) }));
      unanswered = setTimeout(() => {
        error = new Error('no subscribe reply in time');
        ws.terminate();
      }, HANDSHAKE_MS);
    });
    ws.on('message', (data, isBinary) => {
      let frame;
      try {
        frame = isBinary ? null : JSON.parse(data.toString('utf8'));
      } catch {
        frame = null;
      }
      if (frame === null) {
        ledger.problem(`${who(f)}: a frame that is not JSON text`);
        return;
      }
      if (frame.id === SUBSCRIBE_ID) {
        clearTimeout(unanswered);
        if (frame.ok !== true) {
          const refusal = new Error(`subscribe refused: ${JSON.stringify(frame)}`);
          refusal.refused = true;
          ws.terminate();
          reject(refusal);
          return;
        }
        if (since !== null) {
          f.resumes++;
          if (frame.recovered === false) f.unrecovered++;
          else if (frame.recovered !== true) ledger.problem(`${who(f)}: a resume reply without recovered: ${JSON.stringify(frame)}`);
        }
        // A fresh start, or history that no longer reaches back: the
        // channel continues after the offset the reply gives.
        if (since === null || frame.recovered === false) f.position = frame.offset;
        subscribedAt = Date.now();
        f.firstSubscribedAt ??= subscribedAt;
        f.sessions++;
        f.session = {
          async close() {
            ws.close(1000, 'soak over');
            const late = setTimeout(() => ws.terminate(), CLOSE_MS);
            await closed;
            clearTimeout(late);
          },
        };
        resolve();
        return;
      }
      if (frame.ok !== undefined || frame.channel !== f.channel || !('event' in frame)) return;
      if (subscribedAt === null) ledger.problem(`${who(f)}: a push (offset ${frame.offset}) before the subscribe reply`);
      received(f, frame, subscribedAt ?? Date.now(), ledger);
    });
    ws.on('error', (e) => (error = e)); // the close that follows ends the attempt or the session
    ws.on('close', (code) => {
      clearTimeout(unanswered);
      if (subscribedAt === null) reject(new Error(`closed before subscribed (${code}${error ? `: ${error.message}` : ''})`));
      else onEnded();
    });
  });
}

/**
 * An SSE session: GET /sse?channels=<channel> (with Last-Event-ID = the last
 * event id received, once there is one); resolves once the 200 head is in
 * (the stream then starts at the channel's offset of that moment); rejects
 * if the attempt failed (err.refused for a 4xx other than 429). `onEnded`
 * runs when an open stream ends, however it ends.
 */
function openSseSession(f, balancer, ledger, onEnded) {
  return new Promise((resolve, reject) => {
    const lastEventId = f.lastEventId;
    const req = http.get({
      host: '127.0.0.1',
      port: balancer.port,
      path: ssePath({ channels: [f.channel] }),
      localAddress: f.localAddress,
      headers: { Accept: 'text/event-stream', ...(lastEventId !== null ? { 'Last-Event-ID': lastEventId } : {}) },
      agent: false,
      timeout: HANDSHAKE_MS, // idle before the head only: cleared once the stream is open
    });
    let subscribedAt = null;
    let ended = false;
    let endedNow;
    const closed = new Promise((done) => (endedNow = done));
    // Once per attempt: before the stream opened, the attempt failed with
    // `failure`; after, the session ended.
    const end = (failure) => {
      if (ended) return;
      ended = true;
      endedNow();
      if (subscribedAt === null) reject(failure);
      else onEnded();
    };
    req.on('timeout', () => req.destroy(new Error('no response head in time')));
    req.on('error', (e) => end(e));
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        const refusal = () => {
          const failure = new Error(`GET /sse: HTTP ${res.statusCode} ${body.slice(0, 200)}`);
          failure.refused = res.statusCode >= 400 && res.statusCode < 500 && res.statusCode !== 429;
          end(failure);
        };
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', refusal);
        res.on('error', refusal);
        res.on('close', refusal);
        return;
      }
      req.setTimeout(0);
      subscribedAt = Date.now();
      f.firstSubscribedAt ??= subscribedAt;
      f.sessions++;
      if (lastEventId !== null) f.resumes++;
      f.session = {
        async close() {
          req.destroy();
          await closed;
        },
      };
      res.setEncoding('utf8');
      const parse = sseParser((record) => {
        if (record.json === undefined) return; // comments (open, heartbeat)
        if (record.id !== undefined) f.lastEventId = record.id;
        if (record.json.channel !== f.channel) return;
        received(f, record.json, subscribedAt, ledger);
      });
      res.on('data', parse);
      res.on('end', end);
      res.on('error', end);
      res.on('close', end);
      resolve();
    });
  });
}

const backoffMs = (attempt) => Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);

/**
 * Starts a follower of `channel` through `balancer` ({url, port}) over
 * `kind` ('ws' or 'sse') from `localAddress`; resolves with it once first
 * subscribed (rejects if it could not be within a minute). The follower:
 * {kind, index, channel, position (last offset known), firstOffset,
 * firstSubscribedAt, received, replayed, sessions, resumes, unrecovered
 * (resumes answered recovered:false), failedAttempts, lastError (of the
 * last failed attempt), failure (set when a reconnect gave up or was
 * refused), session (set while subscribed), reconnecting (a promise while
 * one runs), stop()}.
 */
export async function startFollower({ kind, index, channel, localAddress, balancer, ledger }) {
  const open = kind === 'ws' ? openWsSession : openSseSession;
  const f = {
    kind,
    index,
    channel,
    localAddress,
    position: null,
    lastEventId: null,
    firstOffset: null,
    firstSubscribedAt: null,
    received: 0,
    replayed: 0,
    sessions: 0,
    resumes: 0,
    unrecovered: 0,
    failedAttempts: 0,
    lastError: null,
    failure: null,
    session: null,
    reconnecting: null,
    stopped: false,
  };

  async function connect() {
    const giveUpAt = Date.now() + RECONNECT_GIVE_UP_MS;
    for (let attempt = 0; !f.stopped; attempt++) {
      try {
        await open(f, balancer, ledger, ended);
        return;
      } catch (e) {
        if (e.refused) throw e;
        f.failedAttempts++;
        f.lastError = e.message;
        if (Date.now() > giveUpAt) throw new Error(`${who(f)}: no connection for ${RECONNECT_GIVE_UP_MS} ms; last: ${e.message}`);
      }
      await new Promise((r) => setTimeout(r, backoffMs(attempt)));
    }
  }

  function ended() {
    f.session = null;
    if (f.stopped) return;
    const again = connect()
      .catch((e) => (f.failure = e))
      .finally(() => {
        if (f.reconnecting === again) f.reconnecting = null;
      });
    f.reconnecting = again;
  }

  f.stop = async () => {
    f.stopped = true;
    while (f.reconnecting) await f.reconnecting;
    await f.session?.close();
  };

  await connect();
  return f;
}

/** The source address of follower `index`: FOLLOWERS_PER_ADDRESS per address, from 127.0.0.2 on. */
export function sourceAddress(index) {
  const n = 2 + Math.floor(index / FOLLOWERS_PER_ADDRESS);
  if (n > 254) throw new Error(`too many followers for 127.0.0.2-254 at ${FOLLOWERS_PER_ADDRESS} per address`);
  return `127.0.0.${n}`;
}
