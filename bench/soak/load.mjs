// load — the soak's steady traffic through the balancer: messages published
// round-robin over the channels at a fixed total rate, and coin gifts
// between a few users, each on a clock schedule (open loop: a slow answer
// does not slow the schedule; a channel's next message waits only for its
// previous one, so a channel's seqs are published in order), each retried
// until it has a clear answer.
// Owns: what was published (per channel: the accepted {seq, offset, at} in
// order, the seqs with an attempt whose fate is unknown), the gifts made and
// their outcomes, and the problems met (answers that are no retryable
// failure, attempts given up).
// Never: sends a retried gift with a new Idempotency-Key (an ambiguous
// 502/503 must not move coins twice); counts a gift but once, by its key;
// sleeps other than to a schedule point or a retry's backoff.
import { api } from '../../tests/integration/lib/harness.mjs';
import { publish } from '../../tests/integration/lib/live.mjs';

const GIVE_UP_MS = 60000;
const RETRYABLE = new Set([429, 502, 503, 504]);
const PROBLEMS_KEPT = 50;

const sleepUntil = (time) => new Promise((r) => setTimeout(r, Math.max(0, time - Date.now())));
const retryDelayMs = (attempt) => Math.min(1000, 50 * 2 ** attempt);

function problems() {
  return {
    list: [],
    count: 0,
    add(text) {
      this.count++;
      if (this.list.length < PROBLEMS_KEPT) this.list.push(text);
    },
  };
}

/** A tally of the failed attempts by answer: {"503": 4, "fetch failed": 2}. */
function countAnswer(tally, answer) {
  tally[answer] = (tally[answer] ?? 0) + 1;
}

/**
 * Publishes event 'soak.message' with data {seq, at (the attempt's clock)}
 * on `channels` through `balancer`: message k of channel c is due at
 * startAt + (k·channels + c)/rate s, seqs 1, 2, … per channel, until
 * `stopAt`. Returns {channels: [{channel, accepted, ambiguous}], attempts,
 * retriedBy (failed attempts by answer), maxLagMs (latest start behind the
 * schedule), slowestAnswer ({ms, answer, at}: the attempt that waited
 * longest for its answer), problems, done (resolves when every channel's
 * last message is answered), stop()}.
 */
export function startPublishing({ balancer, channels, rate, startAt, stopAt }) {
  const run = {
    channels: channels.map((channel) => ({ channel, accepted: [], ambiguous: new Set() })),
    attempts: 0,
    retriedBy: {},
    maxLagMs: 0,
    slowestAnswer: { ms: 0, answer: null, at: null },
    problems: problems(),
    stopped: false,
    stop() {
      run.stopped = true;
    },
  };

  function noteAnswerTime(sentAt, answer) {
    const ms = Date.now() - sentAt;
    if (ms > run.slowestAnswer.ms) run.slowestAnswer = { ms, answer, at: new Date(sentAt).toISOString() };
  }

  async function publishOne(state, seq) {
    const giveUpAt = Date.now() + GIVE_UP_MS;
    for (let attempt = 0; !run.stopped; attempt++) {
      run.attempts++;
      const at = Date.now();
      let answer;
      try {
        const res = await publish(balancer, state.channel, 'soak.message', { seq, at });
        noteAnswerTime(at, String(res.status));
        if (res.status === 202) {
          state.accepted.push({ seq, offset: res.body.offset, at });
          return true;
        }
        if (!RETRYABLE.has(res.status)) {
          run.problems.add(`publish ${state.channel} seq ${seq}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
          return false;
        }
        answer = String(res.status);
      } catch (e) {
        answer = e.cause?.code ?? e.message; // the connection failed: nginx or the node went away
        noteAnswerTime(at, answer);
      }
      countAnswer(run.retriedBy, answer);
      state.ambiguous.add(seq); // that attempt may have been stored before its answer was lost
      if (Date.now() > giveUpAt) {
        run.problems.add(`publish ${state.channel} seq ${seq}: no 202 within ${GIVE_UP_MS} ms (last: ${answer})`);
        return false;
      }
      await new Promise((r) => setTimeout(r, retryDelayMs(attempt)));
    }
    return false;
  }

  const stride = 1000 / rate;
  run.done = Promise.all(
    run.channels.map(async (state, c) => {
      for (let k = 0; !run.stopped; k++) {
        const due = startAt + (k * run.channels.length + c) * stride;
        if (due >= stopAt) return;
        await sleepUntil(due);
        run.maxLagMs = Math.max(run.maxLagMs, Date.now() - due);
        if (!(await publishOne(state, k + 1))) return; // a channel with a hole cannot be checked further
      }
    }),
  );
  return run;
}

/**
 * Gifts between `users` ([{id, token}]) through `balancer`: gift k is due at
 * startAt + k/rate s until `stopAt`, from a random user to another, 1..100
 * coins, with Idempotency-Key `<keyPrefix>-<k>`, retried with the same key
 * until it is answered 201 or 422. Returns {gifts: [{key, from, to, coins,
 * status, replayed, attempts}], retriedBy, problems, done, stop()}.
 */
export function startGifting({ balancer, users, rate, startAt, stopAt, keyPrefix }) {
  const run = {
    gifts: [],
    retriedBy: {},
    problems: problems(),
    stopped: false,
    stop() {
      run.stopped = true;
    },
  };

  async function giveOne(gift, token) {
    const giveUpAt = Date.now() + GIVE_UP_MS;
    for (let attempt = 0; !run.stopped; attempt++) {
      gift.attempts++;
      let answer;
      try {
        const res = await api(balancer, 'POST', '/api/gifts', {
          token,
          body: { to_user_id: gift.to, coins: gift.coins },
          headers: { 'Idempotency-Key': gift.key },
        });
        if (res.status === 201 || res.status === 422) {
          gift.status = res.status;
          gift.replayed = res.headers.get('idempotent-replayed') === 'true';
          if (res.status === 422 && res.body?.error?.code !== 'insufficient_funds')
            run.problems.add(`gift ${gift.key}: 422 ${res.text.slice(0, 200)}`);
          return;
        }
        if (!RETRYABLE.has(res.status)) {
          run.problems.add(`gift ${gift.key}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
          return;
        }
        answer = String(res.status);
      } catch (e) {
        answer = e.cause?.code ?? e.message;
      }
      countAnswer(run.retriedBy, answer);
      if (Date.now() > giveUpAt) {
        run.problems.add(`gift ${gift.key}: no clear answer within ${GIVE_UP_MS} ms (last: ${answer})`);
        return;
      }
      await new Promise((r) => setTimeout(r, retryDelayMs(attempt)));
    }
  }

  run.done = (async () => {
    const pending = [];
    for (let k = 0; !run.stopped; k++) {
      const due = startAt + (k * 1000) / rate;
      if (due >= stopAt) break;
      await sleepUntil(due);
      const from = Math.floor(Math.random() * users.length);
      const to = (from + 1 + Math.floor(Math.random() * (users.length - 1))) % users.length;
      const gift = {
        key: `${keyPrefix}-${k}`,
        from: users[from].id,
        to: users[to].id,
        coins: 1 + Math.floor(Math.random() * 100),
        status: null,
        replayed: false,
        attempts: 0,
      };
      run.gifts.push(gift);
      pending.push(giveOne(gift, users[from].token));
    }
    await Promise.all(pending);
  })();
  return run;
}
