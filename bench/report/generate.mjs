#!/usr/bin/env node
// generate — writes docs/benchmarks.md and the PNGs in docs/bench/ from a
// benchmark results file (default bench/results/latest.json).
// Owns: the report's layout and wording. Keeps verbatim, from the existing
// docs/benchmarks.md, the hand-written section between `<!-- manual -->` and
// `<!-- /manual -->` (profiling notes, what each optimisation bought).
// Must never: drop that section, or print a figure that is not in the results
// file it was given.
//
// Usage: node bench/report/generate.mjs [results.json]
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runsOf, bestStep, find, ratio, targets, targets17, scaleVerdict } from './summary.mjs';
import { drawPlots } from './plots.mjs';
import { isSwitchboard } from '../lib/plan.mjs';

const MANUAL_OPEN = '<!-- manual -->';
const MANUAL_CLOSE = '<!-- /manual -->';
const DEFAULT_MANUAL = `${MANUAL_OPEN}
_(Written by hand; the generator keeps this section as it is.)_

Profiles (perf / callgrind) and what each optimisation bought go here.
${MANUAL_CLOSE}`;

const fx = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');
const n0 = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const x2 = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');
const mb = (b) => (Number.isFinite(b) ? `${(b / 1048576).toFixed(1)} MiB` : '–');
const row = (cells) => `| ${cells.join(' | ')} |`;
const table = (header, rows) => [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');

/** The manual section of an existing report, or the default one. */
export function manualSection(existing) {
  const a = existing.indexOf(MANUAL_OPEN);
  const b = existing.indexOf(MANUAL_CLOSE, a);
  if (a < 0 || b < 0) return DEFAULT_MANUAL;
  return existing.slice(a, b + MANUAL_CLOSE.length);
}

function errors(runs) {
  const bad = runs.filter((r) => r.error);
  if (!bad.length) return '';
  return `\nRuns that did not complete:\n\n${bad.map((r) => `- ${r.label}: ${r.error.split('\n')[0]}`).join('\n')}\n`;
}

function method(results) {
  const p = results.plan;
  const t = p.w1.timing;
  return `Every server runs alone, pinned to CPU ${results.cpus.server} with \`taskset\` (Switchboard's unpinned runs aside, below); the load generator,
wrk, Redis and PostgreSQL share CPU ${results.cpus.load}. Loopback only. Switchboard runs three times in each
workload: **switchboard** pinned like the peers with one event loop (\`io_threads = 1\`: its sockets and
actors on one thread; the ratios and the one-core targets use this run), **switchboard-unpinned** with one
loop and free to use every core (so it shares CPU ${results.cpus.load} with the load), and
**switchboard-2loops**, unpinned with \`io_threads = 2\`. The load generator (\`bench/loadgen\`, C++, one Asio thread) opens the
connections spread over source addresses 127.0.0.1–127.0.0.50, connection *i* on channel *i* mod *C*,
and publishes open-loop at a fixed rate over keep-alive HTTP connections (Switchboard:
\`POST /api/publish\`, so Redis and the channel history are on the path; the peers: their own publish
endpoint). Each ~100 B payload carries a sequence number and its scheduled send time; latency is receive
time − scheduled time, so a slow publish path counts. Loss is expected − received after the drain.
Server CPU (utime + stime) and RSS come from \`/proc/<pid>\` of the process doing the work (nginx: its
worker; Node: the node process). Per ladder step: ${t.settle} s settle, ${t.warmup} s warm-up,
${t.measure} s measured, ${t.drain} s drain; a step passes with every connection up, nothing lost, no
publish error and p99 < 200 ms; a ladder stops after two consecutive failing steps. The machine is noisy
(±25–50 % between runs): compare the ratios within this run, not absolute figures across runs.
Cached reads are driven with wrk (\`-t1 -c${p.reads.wrkConns}\`), the stampede by the load generator
(${p.reads.stampedeRequests} connections opened first, then one request on each at once), with every
read of \`books\` made to take ${p.reads.queryMs} ms by swapping the table for a view that sleeps;
database queries are counted with \`pg_stat_statements\`.`;
}

function machine(results) {
  const m = results.machine ?? {};
  const v = m.versions ?? {};
  return `${table(['', ''], [
    ['CPUs', `${m.nproc ?? '–'} (server on CPU ${results.cpus.server}, load on CPU ${results.cpus.load})`],
    ['CPU model', m.cpu_model ?? '–'],
    ['kernel', m.kernel ?? '–'],
    ['RAM', m.ram_bytes ? `${(m.ram_bytes / 2 ** 30).toFixed(1)} GiB` : '–'],
  ])}

${table(['software', 'version'], Object.entries(v).map(([k, val]) => [k, `\`${val}\``]))}`;
}

// ------------------------------------------------------------------ W1, W2

function ladderSection(results, key, heading, intro, plots) {
  const runs = runsOf(results, key);
  if (!runs.length) return '';
  const sw = (tr) => bestStep(find(runs, 'switchboard', tr) ?? find(runs, 'switchboard', 'ws'));
  const perDelivery = key === 'w1';
  const rows = runs.map((r) => {
    const b = bestStep(r);
    const s = sw(r.transport);
    const isSw = isSwitchboard(r.server);
    const cpu = perDelivery ? b?.cpu_us_per_delivery : b?.cpu_us_per_message;
    const swCpu = perDelivery ? s?.cpu_us_per_delivery : s?.cpu_us_per_message;
    return [
      `${isSw ? '**' : ''}${r.server}${isSw ? '**' : ''}`, r.transport,
      r.error && !b ? 'error (see below)' : (b ? `${n0(b.rate)} msg/s` : 'none passed'),
      n0(b?.deliveries_per_s), `${fx(b?.p50_ms, 2)} / ${fx(b?.p99_ms, 2)}`, fx(cpu, 2), mb(b?.server_rss_bytes),
      isSw ? '–' : x2(ratio(s?.rate, b?.rate)), isSw ? '–' : x2(ratio(swCpu, cpu)),
    ];
  });
  const cpuName = perDelivery ? 'CPU µs / delivery' : 'CPU µs / message';
  let out = `## ${heading}\n\n${intro}\n\n${table(
    ['server', 'transport', 'highest passing rate', 'deliveries/s', 'p50 / p99 ms', cpuName, 'RSS',
      'rate: Switchboard / peer', `${perDelivery ? 'CPU/delivery' : 'CPU/message'}: Switchboard / peer`],
    rows)}\n\nFigures at each server's highest passing rate; ratios against Switchboard on the same transport
(rate: higher is better for Switchboard; CPU: lower is better).\n${errors(runs)}`;
  for (const p of plots.filter((x) => x.name === key)) out += `\n![${p.title}](bench/${path.basename(p.file)})\n`;
  out += '\n<details><summary>Every step</summary>\n\n';
  for (const r of runs) {
    if (!r.steps?.length) continue;
    out += `**${r.server} ${r.transport}**\n\n${table(
      ['rate msg/s', 'conns up', 'deliveries/s', 'p50', 'p99', 'p99.9', 'max ms', 'lost', 'publish errors', 'CPU µs/delivery', 'CPU µs/msg', 'pass'],
      r.steps.map((s) => [n0(s.rate), n0(s.conns_up), n0(s.deliveries_per_s), fx(s.p50_ms, 2), fx(s.p99_ms, 2),
        fx(s.p999_ms, 2), fx(s.max_ms, 1), n0(s.lost), n0(s.publish_errors), fx(s.cpu_us_per_delivery, 2),
        fx(s.cpu_us_per_message, 1), s.pass ? 'yes' : '**no**']))}\n\n`;
  }
  return `${out}</details>\n`;
}

// ------------------------------------------------------------------ W3, W4

function idleSection(results, plots) {
  const runs = runsOf(results, 'w3');
  if (!runs.length) return '';
  const sw = (tr) => find(runs, 'switchboard', tr)?.idle ?? find(runs, 'switchboard', 'ws')?.idle;
  const rows = runs.map((r) => {
    const i = r.idle;
    const isSw = isSwitchboard(r.server);
    return [`${isSw ? '**' : ''}${r.server}${isSw ? '**' : ''}`, r.transport,
      i ? `${n0(i.up)} / ${n0(i.conns)}` : 'error (see below)',
      mb(i?.rss_before), mb(i?.rss_after), n0(i?.bytes_per_conn),
      isSw ? '–' : x2(ratio(sw(r.transport)?.bytes_per_conn, i?.bytes_per_conn))];
  });
  let out = `## W3 — idle memory\n\n${n0(results.plan.w3.conns)} idle connections on ${n0(results.plan.w3.channels)} channels;
server RSS before connecting and ${results.plan.w3.settle} s after the last connection was up.\n\n${table(
    ['server', 'transport', 'connections up', 'RSS before', 'RSS after', 'bytes / connection', 'Switchboard / peer'], rows)}
\nRatio: Switchboard's bytes per connection over the peer's (lower is better for Switchboard).\n${errors(runs)}`;
  for (const p of plots.filter((x) => x.name === 'w3')) out += `\n![${p.title}](bench/${path.basename(p.file)})\n`;
  return out;
}

function latencySection(results) {
  const runs = runsOf(results, 'w4');
  if (!runs.length) return '';
  const sw = (tr) => find(runs, 'switchboard', tr)?.steps?.[0] ?? find(runs, 'switchboard', 'ws')?.steps?.[0];
  const rows = runs.map((r) => {
    const s = r.steps?.[0];
    const isSw = isSwitchboard(r.server);
    return [`${isSw ? '**' : ''}${r.server}${isSw ? '**' : ''}`, r.transport,
      s ? fx(s.p50_ms, 2) : 'error (see below)', fx(s?.p90_ms, 2), fx(s?.p99_ms, 2),
      fx(s?.p999_ms, 2), fx(s?.max_ms, 2), n0(s?.lost), fx(s?.cpu_us_per_delivery, 2),
      isSw ? '–' : `${x2(ratio(sw(r.transport)?.p50_ms, s?.p50_ms))} / ${x2(ratio(sw(r.transport)?.p99_ms, s?.p99_ms))}`];
  });
  const w = results.plan.w4;
  return `## W4 — latency at a light load\n\n${n0(w.conns)} connections on ${w.channels} channels, ${w.rates[0]} msg/s
in all, ${w.timing.measure} s measured.\n\n${table(
    ['server', 'transport', 'p50 ms', 'p90', 'p99', 'p99.9', 'max', 'lost', 'CPU µs/delivery', 'p50 / p99: Switchboard / peer'], rows)}
\nRatios: Switchboard's latency over the peer's (lower is better for Switchboard).\n${errors(runs)}`;
}

// ------------------------------------------------------------------ reads

function readsSection(results, plots) {
  const runs = runsOf(results, 'reads');
  if (!runs.length) return '';
  const r = results.plan.reads;
  const of = (kind) => runs.filter((x) => x.kind === kind);
  const bold = (s) => (isSwitchboard(s) ? `**${s}**` : s);
  const swHot = of('hot').find((x) => x.server === 'switchboard')?.wrk?.requests_per_s;
  const hot = of('hot').map((x) => [bold(x.server),
    x.wrk?.ok ? n0(x.wrk.requests_per_s) : 'error (see below)',
    `${fx(x.wrk?.p50_ms, 2)} / ${fx(x.wrk?.p99_ms, 2)}`, n0(x.wrk?.non_2xx), n0(x.wrk?.socket_errors),
    Number.isFinite(x.server_cpu_share) ? `${fx(100 * x.server_cpu_share, 0)} %` : '–',
    isSwitchboard(x.server) ? '–' : x2(ratio(swHot, x.wrk?.requests_per_s))]);
  const st = of('stampede').map((x) => [bold(x.server),
    x.stampede ? n0(x.db_queries) : 'error (see below)',
    x.stampede ? `${n0(x.stampede.ok)} / ${n0(x.stampede.requests)}` : '–',
    fx(x.stampede?.all_answered_ms, 0), `${fx(x.stampede?.p50_ms, 1)} / ${fx(x.stampede?.p99_ms, 1)}`]);
  const swCold = of('cold').find((x) => x.server === 'switchboard')?.wrk?.requests_per_s;
  const cold = of('cold').map((x) => [bold(x.server),
    x.wrk?.ok ? n0(x.wrk.requests_per_s) : 'error (see below)',
    `${fx(x.wrk?.p50_ms, 2)} / ${fx(x.wrk?.p99_ms, 2)}`, n0(x.db_queries), n0(x.distinct_keys),
    fx(ratio(x.db_queries, x.distinct_keys), 3),
    Number.isFinite(x.server_cpu_share) ? `${fx(100 * x.server_cpu_share, 0)} %` : '–',
    isSwitchboard(x.server) ? '–' : x2(ratio(swCold, x.wrk?.requests_per_s))]);
  let out = `## Cached reads\n\nBooks table of 100,000 rows. Servers: Switchboard; the seed's cache-aside
(Redis \`GET\`, on a miss \`SELECT\` then \`SET … EX 300\`) on Express, on plain \`node:http\`, and on
\`node:http\` with per-key promise coalescing; Varnish in front of the \`node:http\` one; nginx serving
the same JSON (fetched from Switchboard) from static files — the ceiling for an HTTP server here.\n
**Hot**: ids 1..${r.hotIds}, each requested once first to warm the caches, then
\`wrk -t1 -c${r.wrkConns} -d${r.hotSeconds}s --latency -s bench/wrk/books_hot.lua\`.\n\n${table(
    ['server', 'req/s', 'p50 / p99 ms', 'non-2xx', 'socket errors', 'server CPU', 'req/s: Switchboard / peer'], hot)}\n`;
  out += `\n**Stampede**: Redis flushed, the server restarted, then ${r.stampedeRequests} concurrent requests for one
cold book while every read of \`books\` takes ${r.queryMs} ms.\n\n${table(
    ['server', 'DB queries', 'answered 200', 'all answered (ms)', 'p50 / p99 ms'], st)}\n`;
  out += `\n**Cold misses**: Redis flushed, the server restarted, then ids uniform over 1..${n0(r.coldIds)} for
${r.coldSeconds} s (\`bench/wrk/books_uniform.lua\` counts the distinct ids it asked for). Server CPU: the
share of its core the server process used during wrk (below 100 %: the node was not the bottleneck).\n\n${table(
    ['server', 'req/s', 'p50 / p99 ms', 'DB queries', 'distinct keys', 'queries / key', 'server CPU', 'req/s: Switchboard / peer'], cold)}\n${errors(runs)}`;
  for (const p of plots.filter((x) => x.name === 'reads')) out += `\n![${p.title}](bench/${path.basename(p.file)})\n`;
  return out;
}

function scaleSection(results) {
  const sc = runsOf(results, 'scale')[0];
  if (!sc) return '';
  if (!sc.nodes?.length) return `## Scale\n\nThe scale stage did not complete: ${(sc.error ?? '').split('\n')[0]}\n`;
  const total = sc.nodes.reduce((a, n) => a + (n.step?.published ?? 0), 0);
  const rows = sc.nodes.map((n) => [n.node_id, `${n0(n.step?.conns_up)} / ${n0(n.conns)}`, n0(n.channels), n0(n.rate),
    n0(n.step?.published), `${n0(n.pubsub_received)} of ${n0(total)}`, fx(ratio(n.pubsub_received, n.step?.published), 2),
    n0(n.step?.lost), fx(n.step?.p99_ms, 2), n.step?.pass ? 'yes' : '**no**']);
  const cross = (sc.cross_node ?? []).map((c) => `- published through ${c.from}, subscribed on ${c.to} (\`${c.channel}\`): ${c.delivered ? 'delivered' : '**not delivered**'}`).join('\n');
  return `## Scale — three nodes, one Redis\n\nThree Switchboard nodes (all on the server core) share one Redis.
Each node holds its own WebSocket connections on its own channel set and each set is published through its
own node at its own rate. A node's Redis subscription traffic (\`pubsub.received\` in \`/stats\`) should match what
was published on *its* channels, not the cluster's total.\n\n${table(
    ['node', 'connections up', 'channels', 'rate msg/s', 'published on its channels', 'Pub/Sub received of the cluster\'s messages', 'received / published', 'lost', 'p99 ms', 'pass'], rows)}

Cross-node delivery (an SSE subscriber on one node, a publish through another):\n\n${cross || '- not measured'}\n\n${scaleVerdict(sc).text}\n`;
}

// ------------------------------------------------------------------ all

export async function generate({ root, results, resultsFile }) {
  const docs = path.join(root, 'docs');
  const mdFile = path.join(docs, 'benchmarks.md');
  const existing = existsSync(mdFile) ? readFileSync(mdFile, 'utf8') : '';
  const manual = manualSection(existing);
  mkdirSync(path.join(docs, 'bench'), { recursive: true });
  const plots = drawPlots(results, path.join(docs, 'bench'));
  const tg = targets(results);
  const tg17 = targets17(results);
  const started = results.started_at ? results.started_at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '–';
  const minutes = results.seconds ? `${Math.round(results.seconds / 60)} min` : 'unfinished';
  const warn = [];
  if (results.fake_loadgen) warn.push('> **This run used the FAKE load generator (`--fake-loadgen`): the live figures are made up. Do not publish them.**');
  if (results.options?.quick) warn.push('> This was a `--quick` smoke run: fewer, shorter steps and fewer connections. Targets at full size are "not judged".');
  const rf = resultsFile ?? `bench/results/${(results.started_at ?? '').replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.json`;
  const md = `# Benchmarks

<!-- Generated by bench/report/generate.mjs from ${rf}. Edit only the manual section: the rest is rewritten by every run. -->

Switchboard side by side with what users would pick instead, measured in the same run on the same machine.
Run ${started}, ${minutes}; raw figures: \`${rf}\`.

${warn.join('\n\n')}

## The command

\`\`\`sh
${results.command}
\`\`\`

\`bench/run\` installs the peers (\`bench/install\`), builds Switchboard and the load generator, starts a
throwaway Redis and PostgreSQL, seeds 100,000 books and runs \`bench/driver.mjs\`; see \`bench/README.md\`.

## Machine

${machine(results)}

## Method

${method(results)}

## Targets (issue 8)

${table(['target', 'measured in this run', 'verdict'], tg.map((t) => [t.target, t.measured, t.status === 'met' ? '**met**' : t.status === 'not met' ? '**not met**' : t.status]))}

## Targets (issue 17: actors on the loops of their sockets)

${table(['target', 'measured in this run', 'verdict'], tg17.map((t) => [t.target, t.measured, t.status === 'met' ? '**met**' : t.status === 'not met' ? '**not met**' : t.status]))}

${ladderSection(results, 'w1', 'W1 — broadcast', `${n0(results.plan.w1.conns)} connections on one channel; the publish rate climbs
${results.plan.w1.rates.join(', ')} msg/s until two steps in a row fail. Deliveries/s = rate × connections.`, plots)}
${ladderSection(results, 'w2', 'W2 — one channel per connection', `${n0(results.plan.w2.conns)} connections each on its own channel;
total publish rate ${results.plan.w2.rates.join(', ')} msg/s (round-robin over the channels) until two steps in a row fail.
For Switchboard every message goes through \`POST /api/publish\`, Redis and the channel history.`, plots)}
${idleSection(results, plots)}
${latencySection(results)}
${readsSection(results, plots)}
${scaleSection(results)}
## Profiling and optimisations

`;
  // The manual section goes in as it is: only the generated part is tidied.
  writeFileSync(mdFile, `${md.replace(/\n{3,}/g, '\n\n')}${manual}\n`);
  return { markdown: mdFile, plots: plots.map((p) => p.file), targets: [...tg, ...tg17] };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const file = path.resolve(process.argv[2] ?? path.join(root, 'bench/results/latest.json'));
  const results = JSON.parse(readFileSync(file, 'utf8'));
  const out = await generate({ root, results, resultsFile: path.relative(root, file) });
  process.stderr.write(`report: wrote ${path.relative(root, out.markdown)} and ${out.plots.length} plot(s)\n`);
  for (const t of out.targets) process.stderr.write(`  ${t.status.padEnd(12)} ${t.target}: ${t.measured}\n`);
}
