// followers — the soak's clients: WebSocket and SSE followers of one channel
// each, through the balancer, that behave like real clients when cut off
// (reconnect with a jittered backoff and resume: `since` on WebSocket,
// Last-Event-ID on SSE) and check every push as it arrives instead of
// keeping it (thousands of clients × half an hour of pushes would not fit):
// what stays of a push is a count per seq and the low 32 bits of its offset,
// six bytes, enough for checks.mjs to tell afterwards which of the
// channel's messages each follower got, missed or got twice.
// nginx allows 256 connections per client address, so followers bind
// source addresses 127.0.0.2, 127.0.0.3, … (the whole of 127/8 is local on
// Linux), FOLLOWERS_PER_ADDRESS on each.
// Owns: the followers' sockets and the delivery ledger: what each channel's
// offsets carried (offset → seq, over every follower), the live-delivery
// latency histogram, and the problems seen as they happen (an offset that
// does not increase, a seq that goes back, a push before its subscribe
// reply, two followers seeing different seqs at one offset, a malformed
// resume answer); per follower, what it received (Receipts) and the
// stretches of its channel it was told it would not get (recovered:false).
// Never: computes with offsets (they increase along a channel but are not
// consecutive — each is past Redis's clock in µs, src/live/publisher.cpp —
// so they are only compared, and their low bits kept as a fingerprint);
// judges a gap as it happens (which messages there were is known only once
// every follower and the publisher are done: checks.mjs); waits without a
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
const LOG_KEPT = 12; // a follower's last session events, for the problems' evidence

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

/** The low 32 bits of an offset: two messages of one seq (a retried publish) are never 2^32 µs (71 min) apart. */
const fingerprint = (offset) => Number(BigInt(offset) & 0xffffffffn);

/**
 * What one follower received, by seq (the publisher's 1, 2, … per channel;
 * 0 for the warm-up): how many pushes carried each seq, the fingerprint of
 * the first one's offset, and, for any later push of a seq already
 * received (the second copy of an unclear seq, or a duplicate), its offset
 * in full — those are rare.
 */
export class Receipts {
  constructor() {
    this.counts = new Uint16Array(256);
    this.firsts = new Uint32Array(256);
    this.again = []; // [{seq, offset}]
    this.total = 0;
  }

  add(seq, offset) {
    if (seq >= this.counts.length) {
      let size = this.counts.length;
      while (size <= seq) size *= 2;
      const counts = new Uint16Array(size);
      const firsts = new Uint32Array(size);
      counts.set(this.counts);
      firsts.set(this.firsts);
      this.counts = counts;
      this.firsts = firsts;
    }
    if (this.counts[seq] === 0) this.firsts[seq] = fingerprint(offset);
    else this.again.push({ seq, offset });
    if (this.counts[seq] < 0xffff) this.counts[seq]++;
    this.total++;
  }

  /** How many pushes of `seq` this follower got. */
  count(seq) {
    return seq < this.counts.length ? this.counts[seq] : 0;
  }

  /** How many times this follower got the message of `seq` at `offset`. */
  times(seq, offset) {
    if (this.count(seq) === 0) return 0;
    let n = this.firsts[seq] === fingerprint(offset) ? 1 : 0;
    for (const a of this.again) if (a.seq === seq && a.offset === offset) n++;
    return n;
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

/** Notes a session event of `f` (kept: the last LOG_KEPT), the evidence shown with its problems. */
function log(f, what) {
  f.log.push(`${new Date().toISOString()} ${what}`);
  if (f.log.length > LOG_KEPT) f.log.shift();
}

/**
 * `f` was told it will not get its channel's messages after offset `after`
 * (the last it knew): up to and including `upto` (a WebSocket reply names
 * where the channel continues), or, when `upto` is null, up to its next
 * push (an SSE stream goes on from the oldest message still kept).
 */
function toldUnrecovered(f, after, upto) {
  f.unrecovered++;
  f.told.push({ after: after === null ? null : BigInt(after), upto: upto === null ? null : BigInt(upto), inclusive: upto !== null });
}

/**
 * One push of `f`'s channel, received by `session` (subscribed since
 * session.subscribedAt): its offset must be past the last one `f` knows
 * (any, for an SSE follower's very first push), its seq not behind the last
 * one `f` got, and it must carry the same seq every other follower saw at
 * that offset. Whether it skipped or repeated a message is for checks.mjs
 * to say (Receipts). Published before the session began (data.at, the
 * publish attempt's clock): replayed history; else a live delivery, whose
 * latency is recorded.
 */
function received(f, push, session, ledger) {
  const offset = BigInt(push.offset);
  const seq = push.data?.seq;
  const open = f.told.at(-1);
  if (open && open.upto === null) open.upto = offset; // the told stretch ends before this push
  session.pushes++;
  session.firstPush ??= push.offset;
  f.received++;
  if (!Number.isSafeInteger(seq) || seq < 0) {
    ledger.problem(`${who(f)}: offset ${push.offset} carries no seq: ${JSON.stringify(push.data)}`);
    return;
  }
  if (f.position !== null && offset <= BigInt(f.position))
    ledger.problem(
      `${who(f)}: offset ${push.offset} (seq ${seq}) after offset ${f.position} (seq ${f.lastSeq}): ` +
        `${offset === BigInt(f.position) ? 'the same offset again' : 'a repeat or a reorder'}`,
    );
  else {
    if (f.lastSeq !== null && seq < f.lastSeq)
      ledger.problem(`${who(f)}: seq ${seq} at offset ${push.offset} after seq ${f.lastSeq} at offset ${f.position}: seqs go back`);
    f.position = push.offset;
    f.lastSeq = seq;
  }
  f.firstOffset ??= push.offset;
  f.receipts.add(seq, push.offset);
  let seqs = ledger.seqAt.get(f.channel);
  if (!seqs) ledger.seqAt.set(f.channel, (seqs = new Map()));
  const seen = seqs.get(push.offset);
  if (seen === undefined) seqs.set(push.offset, seq);
  else if (seen !== seq) ledger.problem(`${who(f)}: offset ${push.offset} carries seq ${seq}; another follower got seq ${seen} there`);
  const publishedAt = push.data?.at;
  if (typeof publishedAt === 'number' && publishedAt >= session.subscribedAt) ledger.live.add(Date.now() - publishedAt);
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
    let session = null;
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
        if (typeof frame.offset !== 'string' || !/^\d+$/.test(frame.offset)) {
          ledger.problem(`${who(f)}: a subscribe reply without an offset: ${JSON.stringify(frame)}`);
          frame.offset = since ?? '0';
        }
        if (since === null) {
          // A fresh start: the channel continues after the reply's offset,
          // and everything after it is this follower's to get.
          f.position = frame.offset;
          f.startAfter = frame.offset;
          log(f, `subscribed at ${frame.offset}`);
        } else {
          f.resumes++;
          log(f, `resumed since ${since}: recovered ${frame.recovered}, at ${frame.offset}`);
          if (frame.recovered === false) {
            // History that no longer reaches back (or that Redis lost): the
            // channel continues after the reply's offset.
            toldUnrecovered(f, since, frame.offset);
            if (BigInt(frame.offset) < BigInt(since))
              ledger.problem(`${who(f)}: resumed since ${since}, answered recovered:false at offset ${frame.offset}, behind it`);
            else f.position = frame.offset;
          } else if (frame.recovered !== true) ledger.problem(`${who(f)}: a resume reply without recovered: ${JSON.stringify(frame)}`);
        }
        session = { subscribedAt: Date.now(), pushes: 0, firstPush: null };
        f.firstSubscribedAt ??= session.subscribedAt;
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
      if (session === null) {
        ledger.problem(`${who(f)}: a push (offset ${frame.offset}) before the subscribe reply`);
        return;
      }
      received(f, frame, session, ledger);
    });
    ws.on('error', (e) => (error = e)); // the close that follows ends the attempt or the session
    ws.on('close', (code) => {
      clearTimeout(unanswered);
      if (session === null) reject(new Error(`closed before subscribed (${code}${error ? `: ${error.message}` : ''})`));
      else {
        log(f, `closed ${code} after ${session.pushes} push(es), at ${f.position}`);
        onEnded();
      }
    });
  });
}

/**
 * An SSE stream's `event: recovered` ({"channels": {<channel>: false}}): the
 * resumed stream could not give every message after the Last-Event-ID.
 * It comes before any push of the stream; one that comes later (the node
 * waited more than 5 s for the channel to join, docs/protocol.md) covers
 * what the stream skipped before its first push.
 */
function recoveredEvent(f, record, session, ledger) {
  const channels = record.json?.channels;
  const names = channels !== null && typeof channels === 'object' ? Object.keys(channels) : [];
  if (names.length !== 1 || names[0] !== f.channel || channels[f.channel] !== false) {
    ledger.problem(`${who(f)}: an event: recovered that does not name this stream's channel as false: ${record.data}`);
    return;
  }
  if (session.resumedFrom === null) ledger.problem(`${who(f)}: event: recovered on a stream that resumed nothing: ${record.data}`);
  log(f, `event: recovered (false) after ${session.pushes} push(es) of the stream`);
  if (session.pushes === 0) toldUnrecovered(f, session.resumedFrom, null);
  else {
    f.lateRecovered++;
    f.unrecovered++;
    f.told.push({ after: BigInt(session.resumedFrom ?? '0'), upto: BigInt(session.firstPush), inclusive: false });
  }
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
    let session = null;
    let ended = false;
    let endedNow;
    const closed = new Promise((done) => (endedNow = done));
    // Once per attempt: before the stream opened, the attempt failed with
    // `failure`; after, the session ended.
    const end = (failure) => {
      if (ended) return;
      ended = true;
      endedNow();
      if (session === null) reject(failure);
      else {
        log(f, `stream ended after ${session.pushes} push(es), at ${f.position}`);
        onEnded();
      }
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
      // resumedFrom: the last offset this follower knew as the stream began
      // (what a recovered event says was not recovered comes after it).
      session = { subscribedAt: Date.now(), pushes: 0, firstPush: null, resumedFrom: lastEventId !== null ? f.position : null };
      f.firstSubscribedAt ??= session.subscribedAt;
      f.sessions++;
      if (lastEventId !== null) f.resumes++;
      log(f, lastEventId !== null ? `stream resumed at ${f.position} (${lastEventId})` : 'stream opened');
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
        if (record.event === 'recovered') recoveredEvent(f, record, session, ledger);
        else if (record.json.channel === f.channel) received(f, record.json, session, ledger);
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
 * {kind, index, channel, position (last offset known), lastSeq (the seq
 * there), startAfter (WebSocket: the first subscribe reply's offset; every
 * message after it is due), firstOffset, firstSubscribedAt, received,
 * receipts (Receipts), replayed, sessions, resumes, unrecovered (resumes
 * answered recovered:false, SSE's `event: recovered` included),
 * lateRecovered (SSE recovered events after a push), told ([{after, upto,
 * inclusive}]: the offsets it was told it would not get, after < offset <
 * upto, or ≤ upto when inclusive; upto null: all after), log (its last
 * session events), failedAttempts, lastError (of the last failed attempt),
 * failure (set when a reconnect gave up or was refused), session (set while
 * subscribed), reconnecting (a promise while one runs), stop()}.
 */
export async function startFollower({ kind, index, channel, localAddress, balancer, ledger }) {
  const open = kind === 'ws' ? openWsSession : openSseSession;
  const f = {
    kind,
    index,
    channel,
    localAddress,
    position: null,
    lastSeq: null,
    startAfter: null,
    lastEventId: null,
    firstOffset: null,
    firstSubscribedAt: null,
    received: 0,
    receipts: new Receipts(),
    replayed: 0,
    sessions: 0,
    resumes: 0,
    unrecovered: 0,
    lateRecovered: 0,
    told: [],
    log: [],
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
