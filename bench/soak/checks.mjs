// checks — the soak's verdicts, computed from what was recorded: deliveries
// (every follower got every message of its channel once and in order from
// its first subscription on, but across a resume answered recovered:false),
// balances (each gift user's final coins are its initial coins plus and
// minus the gifts answered 201, once per Idempotency-Key, and the total is
// conserved) and memory (each node's RSS once its clients have left, against
// the RSS of the same process before it had clients).
// Owns: nothing; pure functions over the records of followers.mjs and
// load.mjs and the RSS readings, each returning {ok, problems, …figures}.
// Never: talks to a server.

/** The most a node's RSS may be once its clients left: baseline + max(20 MiB, 25 %). */
export const rssLimitKb = (baselineKb) => Math.round(baselineKb + Math.max(20 * 1024, baselineKb * 0.25));

/**
 * Deliveries: `followers` (from startFollower), `ledger` (createLedger) and
 * `published` (startPublishing's run, finished).
 */
export function checkDeliveries(followers, ledger, published) {
  const problems = [...ledger.problems];
  let problemCount = ledger.problemCount;
  const add = (text) => {
    problemCount++;
    if (problems.length < 100) problems.push(text);
  };
  for (const { channel, accepted, ambiguous } of published.channels) {
    if (!accepted.length) {
      add(`${channel}: nothing was published`);
      continue;
    }
    // What the followers saw at each offset: seqs in order, a seq twice in
    // a row only where one of its attempts had no clear answer.
    const seen = ledger.seqAt.get(channel) ?? new Map();
    const offsets = [...seen.keys()].map(BigInt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (let i = 1; i < offsets.length; i++) {
      if (offsets[i] !== offsets[i - 1] + 1n) continue; // no follower saw the offsets between (recovered:false)
      const before = seen.get(String(offsets[i - 1]));
      const seq = seen.get(String(offsets[i]));
      if (seq === before + 1) continue;
      if (seq === before && ambiguous.has(seq)) continue;
      add(`${channel}: seq ${seq} at offset ${offsets[i]} follows seq ${before}`);
    }
    const firstSeen = offsets[0];
    for (const { seq, offset } of accepted) {
      if (firstSeen === undefined || BigInt(offset) < firstSeen) continue; // before every follower's first subscription
      const got = seen.get(offset);
      if (got !== seq) add(`${channel}: offset ${offset} was accepted for seq ${seq}; followers got ${got === undefined ? 'nothing' : `seq ${got}`} there`);
    }
  }
  const byChannel = new Map(published.channels.map((c) => [c.channel, c.accepted]));
  for (const f of followers) {
    const accepted = byChannel.get(f.channel);
    const last = accepted.at(-1)?.offset;
    const name = `${f.kind} follower ${f.index} (${f.channel})`;
    if (f.failure) add(`${name}: ${f.failure.message}`);
    if (f.position !== last)
      add(`${name}: ends at offset ${f.position}, the channel at ${last} (${f.sessions} connection(s); last failed attempt: ${f.lastError})`);
    // Whatever was published after it first subscribed reached it.
    const due = accepted.find((m) => m.at > f.firstSubscribedAt);
    if (due && (f.firstOffset === null || BigInt(f.firstOffset) > BigInt(due.offset)))
      add(`${name}: first push at offset ${f.firstOffset}, after offset ${due.offset} published once it had subscribed`);
  }
  const sum = (pick, kind) => followers.filter((f) => !kind || f.kind === kind).reduce((n, f) => n + pick(f), 0);
  return {
    ok: problemCount === 0,
    problemCount,
    problems,
    deliveries: sum((f) => f.received),
    live: ledger.live.count,
    replayed: sum((f) => f.replayed),
    latencyMs: {
      p50: ledger.live.percentile(0.5),
      p99: ledger.live.percentile(0.99),
      max: ledger.live.count ? Math.round(ledger.live.max) : null,
    },
    wsResumes: sum((f) => f.resumes, 'ws'),
    recoveredFalse: sum((f) => f.unrecovered),
    followersToldRecoveredFalse: followers.filter((f) => f.unrecovered > 0).length,
    sseResumes: sum((f) => f.resumes, 'sse'),
    failedConnectionAttempts: sum((f) => f.failedAttempts),
  };
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
