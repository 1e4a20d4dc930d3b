// checks — the soak's verdicts, computed from what was recorded: deliveries
// (every follower got every message of its channel once from its first
// subscription on, but what a resume answered recovered:false said it would
// not get, counted; and Redis's history still holds every message accepted),
// balances (each gift user's final coins are its initial coins plus and
// minus the gifts answered 201, once per Idempotency-Key, and the total is
// conserved) and memory (each node's RSS once its clients have left, against
// the RSS of the same process before it had clients).
// Owns: nothing; pure functions over the records of followers.mjs and
// load.mjs, Redis's history as read at the end, and the RSS readings, each
// returning {ok, problems, …figures}.
// Never: talks to a server; computes with offsets (they increase along a
// channel but are not consecutive: it only compares them); takes a seq that
// repeats for a duplicate where the publisher could not know whether its
// first attempt was stored (unclear), nor a missed message for a loss where
// the follower was told recovered:false.

/** The most a node's RSS may be once its clients left: baseline + max(20 MiB, 25 %). */
export const rssLimitKb = (baselineKb) => Math.round(baselineKb + Math.max(20 * 1024, baselineKb * 0.25));

const big = (offset) => BigInt(offset);
const iso = (ms) => (typeof ms === 'number' ? new Date(ms).toISOString() : 'at an unknown time');
const EXAMPLES = 3; // followers named per lost or duplicated message
const EVIDENCE = 5; // followers whose session log is shown

/** A seq that may be at two offsets: an unclear publish (an attempt without an answer may have been stored too), or 0, the warm-up (one per node). */
const mayRepeat = (ambiguous, seq) => seq === 0 || ambiguous.has(seq);

/** Whether `f` was told (recovered:false) it would not get the message at `offset` (a BigInt). */
function toldOf(f, offset) {
  return f.told.some(
    (t) => (t.after === null || offset > t.after) && (t.upto === null || (t.inclusive ? offset <= t.upto : offset < t.upto)),
  );
}

/**
 * Each channel's messages as far as anyone knows them, in offset order:
 * every publish answered 202 ({offset, big, seq, at, accepted: true}), and
 * every other offset a follower saw for a seq that may repeat (accepted:
 * false: an unclear seq's other stored attempt). Checks them on the way:
 * the answers' offsets increase with the seq; no follower saw a clear seq
 * at an offset other than its accepted one, nor another seq at an accepted
 * offset; in offset order the seqs run 1, 2, … (a seq twice only if it may
 * repeat).
 */
function channelMessages(published, ledger, add) {
  const byChannel = new Map();
  for (const { channel, accepted, ambiguous } of published.channels) {
    const acceptedAt = new Map(accepted.map((a) => [a.offset, a.seq]));
    const offsetOf = new Map(accepted.map((a) => [a.seq, a.offset]));
    for (let i = 1; i < accepted.length; i++)
      if (big(accepted[i].offset) <= big(accepted[i - 1].offset))
        add(
          `${channel}: seq ${accepted[i].seq} was answered offset ${accepted[i].offset}, not past seq ${accepted[i - 1].seq}'s ` +
            `${accepted[i - 1].offset} (published after it)`,
        );
    const messages = accepted.map((a) => ({ offset: a.offset, big: big(a.offset), seq: a.seq, at: a.at, accepted: true }));
    for (const [offset, seq] of ledger.seqAt.get(channel) ?? []) {
      const there = acceptedAt.get(offset);
      if (there !== undefined) {
        if (there !== seq) add(`${channel}: offset ${offset} was accepted for seq ${there}; followers got seq ${seq} there`);
      } else if (mayRepeat(ambiguous, seq)) messages.push({ offset, big: big(offset), seq, at: null, accepted: false });
      else
        add(
          `${channel}: followers got seq ${seq} at offset ${offset}, but seq ${seq} was clear and accepted at ` +
            `${offsetOf.get(seq) ?? 'no offset'}: one message at two offsets`,
        );
    }
    messages.sort((a, b) => (a.big < b.big ? -1 : a.big > b.big ? 1 : 0));
    for (let i = 1; i < messages.length; i++) {
      const [before, m] = [messages[i - 1], messages[i]];
      if (m.seq === before.seq + 1 || (m.seq === before.seq && mayRepeat(ambiguous, m.seq))) continue;
      add(`${channel}: seq ${m.seq} at offset ${m.offset} follows seq ${before.seq} at offset ${before.offset}`);
    }
    const bySeq = new Map();
    for (const m of messages) {
      if (!bySeq.has(m.seq)) bySeq.set(m.seq, []);
      bySeq.get(m.seq).push(m);
    }
    byChannel.set(channel, { messages, bySeq, last: accepted.at(-1)?.offset ?? null });
  }
  return byChannel;
}

/**
 * Deliveries: `followers` (from startFollower), `ledger` (createLedger),
 * `published` (startPublishing's run, finished) and `history` (checkHistory's
 * verdict on Redis's history, or null when it was not read).
 * Each follower is due every message of its channel after its first
 * subscribe reply's offset (WebSocket) or from its first push on (SSE: a
 * stream's start is not told), and in any case every one published
 * (data.at) after it first subscribed. Of those, one it did not get is
 * `told` if a recovered:false covered it, else `lost`; every push of a
 * message it already had (the same offset again, or a clear seq at another
 * offset) is `duplicated`.
 */
export function checkDeliveries(followers, ledger, published, history = null) {
  const problems = [...ledger.problems];
  let problemCount = ledger.problemCount;
  const add = (text) => {
    problemCount++;
    if (problems.length < 100) problems.push(text);
  };
  for (const { channel, accepted } of published.channels) if (!accepted.length) add(`${channel}: nothing was published`);
  const channels = channelMessages(published, ledger, add);

  let lost = 0;
  let duplicated = 0;
  let told = 0;
  const lostMessages = new Map(); // "<channel> <offset>" -> {m, channel, followers, names}
  const evidence = [];
  for (const f of followers) {
    const { messages, bySeq, last } = channels.get(f.channel);
    const name = `${f.kind} follower ${f.index} (${f.channel})`;
    if (f.failure) add(`${name}: ${f.failure.message}`);
    if (f.position !== last)
      add(`${name}: ends at offset ${f.position}, the channel at ${last} (${f.sessions} connection(s); last failed attempt: ${f.lastError})`);
    const startAfter = f.startAfter !== null ? big(f.startAfter) : null;
    const firstOffset = f.firstOffset !== null ? big(f.firstOffset) : null;
    const due = (m) =>
      (startAfter !== null ? m.big > startAfter : firstOffset !== null && m.big >= firstOffset) ||
      (m.accepted && f.firstSubscribedAt !== null && m.at > f.firstSubscribedAt);
    let lostHere = 0;
    const matched = new Map(); // seq -> pushes matched to one of its messages
    for (const m of messages) {
      const n = f.receipts.times(m.seq, m.offset);
      matched.set(m.seq, (matched.get(m.seq) ?? 0) + n);
      if (n > 1) {
        duplicated += n - 1;
        add(`${name}: got offset ${m.offset} (seq ${m.seq}) ${n} times`);
      }
      if (n > 0 || !due(m)) continue;
      if (toldOf(f, m.big)) {
        told++;
        continue;
      }
      lost++;
      lostHere++;
      const key = `${f.channel} ${m.offset}`;
      if (!lostMessages.has(key)) lostMessages.set(key, { m, channel: f.channel, followers: 0, names: [] });
      const entry = lostMessages.get(key);
      entry.followers++;
      if (entry.names.length < EXAMPLES) entry.names.push(`${f.kind} ${f.index}`);
    }
    // Pushes at an offset that is not their seq's message: a clear seq again
    // somewhere else (channelMessages named the offset).
    for (let seq = 0; seq < f.receipts.counts.length; seq++) {
      const extra = f.receipts.count(seq) - (matched.get(seq) ?? 0);
      if (extra <= 0) continue;
      duplicated += extra;
      const where = f.receipts.again.filter((a) => a.seq === seq).map((a) => a.offset);
      add(
        `${name}: ${extra} push(es) of seq ${seq} at an offset that is not seq ${seq}'s ` +
          `(${(bySeq.get(seq) ?? []).map((m) => m.offset).join(', ') || 'none'}); later pushes of it at: ${where.join(', ') || '-'}`,
      );
    }
    if (lostHere && evidence.length < EVIDENCE) evidence.push(`${name}: ${lostHere} lost; its last sessions: ${f.log.join(' | ')}`);
  }
  for (const { m, channel, followers: n, names } of lostMessages.values())
    add(
      `${channel}: offset ${m.offset} (seq ${m.seq}${m.accepted ? `, accepted, published ${iso(m.at)}` : ', an unclear attempt that was stored'}) ` +
        `not received by ${n} follower(s) due it, not told recovered:false (${names.join(', ')}${n > names.length ? ', …' : ''})`,
    );
  for (const e of evidence) add(e);
  if (history) {
    for (const p of history.problems) add(`Redis history: ${p}`);
    problemCount += history.problemCount - history.problems.length; // those not listed
  }

  const sum = (pick, kind) => followers.filter((f) => !kind || f.kind === kind).reduce((n, f) => n + pick(f), 0);
  return {
    ok: problemCount === 0 && lost === 0 && duplicated === 0,
    problemCount,
    problems,
    deliveries: sum((f) => f.received),
    lost,
    duplicated,
    toldRecoveredFalse: told,
    live: ledger.live.count,
    replayed: sum((f) => f.replayed),
    latencyMs: {
      p50: ledger.live.percentile(0.5),
      p99: ledger.live.percentile(0.99),
      max: ledger.live.count ? Math.round(ledger.live.max) : null,
    },
    wsResumes: sum((f) => f.resumes, 'ws'),
    wsRecoveredFalse: sum((f) => f.unrecovered, 'ws'),
    sseResumes: sum((f) => f.resumes, 'sse'),
    sseRecoveredFalse: sum((f) => f.unrecovered, 'sse'),
    sseRecoveredLate: sum((f) => f.lateRecovered, 'sse'),
    followersToldRecoveredFalse: followers.filter((f) => f.unrecovered > 0).length,
    failedConnectionAttempts: sum((f) => f.failedAttempts),
  };
}

/**
 * Redis's history (`history`: Map channel → [{offset, previous, event,
 * seq}] as XRANGE lists it) against what was published: every message
 * accepted is still there at its offset with its seq (from the oldest
 * entry kept on: the history keeps the newest channel_history_size), each
 * entry names the one before it as its previous, and an entry not
 * accepted is an unclear seq's stored attempt (a clear seq stored twice is
 * a duplicate). After a SIGKILL with appendfsync always, nothing
 * acknowledged may be missing.
 */
export function checkHistory(published, history) {
  const problems = [];
  let problemCount = 0;
  const add = (text) => {
    problemCount++;
    if (problems.length < 50) problems.push(text);
  };
  let kept = 0;
  let missing = 0;
  let unclearStored = 0;
  let brokenLinks = 0;
  for (const { channel, accepted, ambiguous } of published.channels) {
    const entries = history.get(channel) ?? [];
    kept += entries.length;
    const byOffset = new Map(entries.map((e) => [e.offset, e]));
    for (let i = 1; i < entries.length; i++)
      if (entries[i].previous !== entries[i - 1].offset) {
        brokenLinks++;
        add(
          `${channel}: the entry at ${entries[i].offset} (seq ${entries[i].seq}) names ${entries[i].previous} as its previous; ` +
            `the entry before it is ${entries[i - 1].offset} (seq ${entries[i - 1].seq})`,
        );
      }
    const oldest = entries.length ? big(entries[0].offset) : null;
    const acceptedAt = new Map(accepted.map((a) => [a.offset, a.seq]));
    for (const a of accepted) {
      if (oldest === null || big(a.offset) < oldest) continue; // trimmed (or nothing kept: below)
      const e = byOffset.get(a.offset);
      if (e?.seq === a.seq) continue;
      missing++;
      add(`${channel}: seq ${a.seq}, accepted at offset ${a.offset}, is ${e ? `seq ${e.seq} in the history` : 'not in the history'}`);
    }
    if (accepted.length && oldest === null) {
      missing += accepted.length;
      add(`${channel}: the history is empty; ${accepted.length} messages were accepted`);
    }
    for (const e of entries) {
      if (e.event !== 'soak.message' || acceptedAt.has(e.offset)) continue;
      if (ambiguous.has(e.seq)) unclearStored++;
      else add(`${channel}: seq ${e.seq} is stored at ${e.offset} too, but was accepted at another offset and never unclear`);
    }
  }
  return { ok: problemCount === 0, problemCount, problems, kept, missing, unclearStored, brokenLinks };
}

/**
 * Balances: `users` ([{id}]), each given `initialCoins`; `gifts` (startGifting's
 * record); `finalCoins` (Map id → coins as GET /api/me/balance answers);
 * `stored` ({count, coins} of the gifts rows sent by these users).
 */
export function checkBalances(users, initialCoins, gifts, finalCoins, stored) {
  const problems = [];
  const expected = new Map(users.map((u) => [u.id, initialCoins]));
  const made = gifts.filter((g) => g.status === 201);
  for (const g of made) {
    expected.set(g.from, expected.get(g.from) - g.coins);
    expected.set(g.to, expected.get(g.to) + g.coins);
  }
  const unresolved = gifts.filter((g) => g.status === null).length;
  if (unresolved) problems.push(`${unresolved} gift(s) never got a clear answer: the balances cannot be predicted`);
  for (const [id, coins] of expected)
    if (finalCoins.get(id) !== coins) problems.push(`user ${id}: ${finalCoins.get(id)} coins, expected ${coins}`);
  const movedCoins = made.reduce((n, g) => n + g.coins, 0);
  if (stored.count !== made.length || stored.coins !== movedCoins)
    problems.push(`PostgreSQL holds ${stored.count} gifts of ${stored.coins} coins; ${made.length} of ${movedCoins} were answered 201`);
  const totalBefore = initialCoins * users.length;
  const totalAfter = [...finalCoins.values()].reduce((n, c) => n + c, 0);
  if (totalAfter !== totalBefore) problems.push(`the total went from ${totalBefore} to ${totalAfter} coins`);
  return {
    ok: problems.length === 0,
    problems,
    attempted: gifts.length,
    made: made.length,
    replayed: made.filter((g) => g.replayed).length,
    insufficientFunds: gifts.filter((g) => g.status === 422).length,
    unresolved,
    movedCoins,
    totalBefore,
    totalAfter,
  };
}

/**
 * Memory: per node, `readings` {baseline (before any client), fresh (the new
 * process once ready after a planned restart, or null), peakKb (highest RSS
 * sampled of the process that ends the run), runPeakKb (of any of the node's
 * processes), end (after every client left)}.
 * The reference is the earliest reading of the process that ends the run.
 */
export function checkMemory(readings) {
  const nodes = readings.map(({ node, baseline, fresh, peakKb, runPeakKb, end }) => {
    const reference = fresh ?? baseline;
    const samePid = end.pid === reference.pid;
    const limitKb = rssLimitKb(reference.rss_kb);
    return {
      node,
      baseline_kb: baseline.rss_kb,
      baseline_pid: baseline.pid,
      restarted_fresh_kb: fresh?.rss_kb ?? null,
      restarted_fresh_ws: fresh?.ws ?? null,
      run_peak_kb: runPeakKb,
      peak_kb: peakKb,
      end_kb: end.rss_kb,
      end_pid: end.pid,
      reference_kb: reference.rss_kb,
      limit_kb: limitKb,
      restarted_unplanned: !samePid,
      ok: samePid && end.rss_kb <= limitKb,
      problem: !samePid
        ? `${node}: pid ${end.pid} at the end, not ${reference.pid}: it restarted unplanned`
        : end.rss_kb > limitKb
          ? `${node}: ${end.rss_kb} kB once its clients left, over ${limitKb} kB (reference ${reference.rss_kb} kB)`
          : null,
    };
  });
  const problems = nodes.map((n) => n.problem).filter(Boolean);
  return { ok: problems.length === 0, problems, nodes: nodes.map(({ problem, ...n }) => n) };
}
