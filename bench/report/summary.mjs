// summary — turns a results file's raw runs into the figures the report
// shows: each run's headline (highest passing rate, memory per connection,
// latency, req/s), the ratios against Switchboard, and the targets of issue 8
// with met / not met computed from the data.
// Owns: which step is a run's headline and how each target is judged.
// Must never: call a target met when a figure it needs is missing (that is
// "not measured"), or mix figures from different results files.

/** Runs of a workload, in the order they ran. */
export const runsOf = (results, workload) => results.runs.filter((r) => r.workload === workload);

/** The passing step with the highest rate, or null. */
export function bestStep(run) {
  const passing = (run?.steps ?? []).filter((s) => s.pass);
  return passing.length ? passing.reduce((a, b) => (b.rate > a.rate ? b : a)) : null;
}

export const find = (runs, server, transport) =>
  runs.find((r) => r.server === server && (!transport || r.transport === transport));

export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : undefined);

/** A verdict: { status: 'met' | 'not met' | 'not measured', measured: text }. */
const verdict = (ok, measured) => ({ status: ok === undefined ? 'not measured' : ok ? 'met' : 'not met', measured });
const fx = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');
const n0 = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');

/** The targets of issue 8, each judged from this run's data. */
export function targets(results) {
  const out = [];
  const w1 = runsOf(results, 'w1');
  for (const tr of ['ws', 'sse']) {
    const sw = bestStep(find(w1, 'switchboard', tr));
    const nc = bestStep(find(w1, 'nchan', tr));
    const r = ratio(sw?.rate, nc?.rate);
    out.push({
      target: `W1 ${tr.toUpperCase()} broadcast, 5,000 conns: highest passing rate ≥ 1.3× Nchan's (${tr})`,
      ...verdict(sw && nc ? r >= 1.3 : undefined,
        sw && nc ? `${fx(sw.rate, 0)} vs ${fx(nc.rate, 0)} msg/s = ${fx(r, 2)}×` : (sw ? `Switchboard ${fx(sw.rate, 0)} msg/s, Nchan not measured` : 'not measured')),
    });
    out.push({
      target: `W1 ${tr.toUpperCase()}: ≤ 4 µs server CPU per delivery (at the highest passing rate)`,
      ...verdict(sw ? sw.cpu_us_per_delivery <= 4 : undefined,
        sw ? `${fx(sw.cpu_us_per_delivery, 2)} µs${nc ? ` (Nchan ${fx(nc.cpu_us_per_delivery, 2)} µs)` : ''}` : 'not measured'),
    });
  }
  const w2 = runsOf(results, 'w2');
  const sw2run = find(w2, 'switchboard', 'ws');
  const sw2 = bestStep(sw2run);
  const lostAny = (sw2run?.steps ?? []).filter((s) => s.rate <= (sw2?.rate ?? 0)).some((s) => s.lost > 0);
  const full2 = (sw2?.conns_up ?? 0) >= 10000;
  out.push({
    target: 'W2 10,000 conns on their own channels: ≤ 15 µs server CPU per message, no loss',
    ...verdict(sw2 && full2 ? sw2.cpu_us_per_message <= 15 && !lostAny : undefined,
      sw2 ? `${fx(sw2.cpu_us_per_message, 1)} µs/msg at ${n0(sw2.rate)} msg/s, ${lostAny ? 'messages lost' : 'none lost'}` +
        `${full2 ? '' : ` (${n0(sw2.conns_up)} connections, fewer than 10,000: not judged)`}` : 'not measured'),
  });
  const w3 = runsOf(results, 'w3');
  for (const tr of ['ws', 'sse']) {
    const r = find(w3, 'switchboard', tr)?.idle;
    const full = r && r.up >= 19000;
    out.push({
      target: `W3 idle ${tr.toUpperCase()} at 19,000 connections: ≤ 4 KB (4,000 B) server RSS per connection`,
      ...verdict(r && full ? r.bytes_per_conn <= 4000 : undefined,
        r ? `${n0(r.bytes_per_conn)} B at ${n0(r.up)} connections${full ? '' : ' (fewer than 19,000: not judged)'}` : 'not measured'),
    });
  }
  const w4 = runsOf(results, 'w4');
  for (const tr of ['ws', 'sse']) {
    const s = find(w4, 'switchboard', tr)?.steps?.[0];
    out.push({
      target: `W4 ${tr.toUpperCase()} 1,000 conns, 10 channels, 50 msg/s: p50 ≤ 1.0 ms, p99 ≤ 2 ms`,
      ...verdict(s ? s.p50_ms <= 1.0 && s.p99_ms <= 2.0 && s.lost === 0 : undefined,
        s ? `${fx(s.p50_ms, 2)} / ${fx(s.p99_ms, 2)} ms${s.lost ? `, ${s.lost} lost` : ''}` : 'not measured'),
    });
  }
  const reads = runsOf(results, 'reads');
  const hot = (s) => reads.find((r) => r.kind === 'hot' && r.server === s && r.ok)?.wrk?.requests_per_s;
  const [swH, ngH, seedH] = [hot('switchboard'), hot('nginx-static'), hot('seed-http')];
  out.push({
    target: 'Reads hot: ≥ 0.8× nginx static\'s req/s',
    ...verdict(swH && ngH ? swH / ngH >= 0.8 : undefined,
      swH && ngH ? `${n0(swH)} vs ${n0(ngH)} req/s = ${fx(swH / ngH, 2)}×` : 'not measured'),
  });
  out.push({
    target: 'Reads hot: ≥ 2× the seed\'s design on node:http',
    ...verdict(swH && seedH ? swH / seedH >= 2 : undefined,
      swH && seedH ? `${n0(swH)} vs ${n0(seedH)} req/s = ${fx(swH / seedH, 2)}×` : 'not measured'),
  });
  const st = reads.find((r) => r.kind === 'stampede' && r.server === 'switchboard' && r.stampede);
  out.push({
    target: 'Stampede, 500 concurrent cold reads, 50 ms query: 1 DB query, all answered within 75 ms',
    ...verdict(st ? st.db_queries === 1 && st.stampede.ok === st.stampede.requests && st.stampede.all_answered_ms <= 75 : undefined,
      st ? `${st.db_queries} quer${st.db_queries === 1 ? 'y' : 'ies'}, ${st.stampede.ok}/${st.stampede.requests} answered 200 within ${fx(st.stampede.all_answered_ms, 0)} ms` : 'not measured'),
  });
  const cold = reads.find((r) => r.kind === 'cold' && r.server === 'switchboard' && r.ok);
  out.push({
    target: 'Cold misses: no more DB queries than distinct keys',
    ...verdict(cold && Number.isFinite(cold.distinct_keys) ? cold.db_queries <= cold.distinct_keys : undefined,
      cold ? `${n0(cold.db_queries)} queries for ${n0(cold.distinct_keys)} distinct keys (${n0(cold.wrk?.requests_per_s)} req/s)` : 'not measured'),
  });
  // "Bound by the database, not the node": the node's core must not be the
  // limit (below 90 % of it while wrk ran).
  const share = cold?.server_cpu_share;
  out.push({
    target: 'Cold misses: throughput bound by the database, not the node',
    ...verdict(cold && Number.isFinite(share) ? share < 0.9 : undefined,
      cold && Number.isFinite(share) ? `node at ${fx(100 * share, 0)} % of its core during the run (${n0(cold.wrk?.requests_per_s)} req/s)` : 'not measured'),
  });
  const sc = runsOf(results, 'scale')[0];
  const scv = scaleVerdict(sc);
  out.push({
    target: 'Scale: 19,000 connections per node, 3 nodes on one Redis, cross-node delivery, Redis traffic per node ∝ its own channels',
    ...verdict(scv.ok, scv.text),
  });
  return out;
}

/** The scale stage's verdict: every node full and passing, cross-node delivery, received ≈ own published. */
export function scaleVerdict(sc) {
  if (!sc || !sc.nodes?.length) return { ok: undefined, text: 'not measured' };
  const full = sc.nodes.every((n) => (n.step?.conns_up ?? 0) >= 19000);
  const passing = sc.nodes.every((n) => n.step?.pass);
  const cross = (sc.cross_node ?? []).length > 0 && sc.cross_node.every((c) => c.delivered);
  const prop = sc.nodes.map((n) => ratio(n.pubsub_received, n.step?.published));
  const proportional = prop.every((p) => p !== undefined && p >= 0.9 && p <= 1.25);
  const text = `${sc.nodes.map((n) => `${n.node_id}: ${n0(n.step?.conns_up)} conns, received ${n0(n.pubsub_received)} for ${n0(n.step?.published)} published on its channels`).join('; ')}; ` +
    `cross-node delivery ${cross ? 'yes' : 'no'}${full ? '' : ' (fewer than 19,000 per node: not judged)'}`;
  return { ok: full ? passing && cross && proportional : undefined, text };
}
