#!/usr/bin/env node
// driver — runs the benchmark's workloads against Switchboard and its peers,
// one server at a time on the server core, the load generator (or wrk) on
// the load core, and writes bench/results/<UTC time>.json and latest.json,
// then docs/benchmarks.md through bench/report/generate.mjs.
// Owns: the order of the runs, what each run records, the progress lines on
// stderr, and the results file's shape (documented in bench/README.md).
// Must never: leave a server it started running (proc.mjs kills them on any
// exit), stop a process it did not start, or leave books swapped for the
// slow view when the reads stage ends normally.
//
// Usage: node bench/driver.mjs [--only=w1,w2,w3,w4,reads,scale]
//   [--servers=switchboard,seed,socketio,nchan,nchan-redis,varnish,nginx-static]
//   [--quick] [--fake-loadgen] [--loadgen=PATH] [--no-report] [--verbose]
// Needs SB_REDIS_URL and SB_DATABASE_URL (bench/run sets them), and
// SB_BUILD_DIR (default build).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCleanup, sleep, cpuSeconds } from './lib/proc.mjs';
import { LIVE, READ, API_KEY, ADMIN_KEY, startSwitchboard, bookPath } from './lib/servers.mjs';
import { loadgenCommand, runLoadgen } from './lib/loadgen.mjs';
import { runWrk } from './lib/wrk.mjs';
import { flushRedis, slowQuery, fastQuery, resetStatements, bookQueries } from './lib/db.mjs';
import { machineInfo } from './lib/machine.mjs';
import {
  WORKLOADS, SERVER_FAMILIES, familyOf, isSwitchboard, makePlan, estimateSeconds,
} from './lib/plan.mjs';
import { log, stepLine, idleLine, duration, fixed, int } from './lib/progress.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ------------------------------------------------------------------ options

function usage(msg) {
  if (msg) log(`driver: ${msg}`);
  log('usage: node bench/driver.mjs [--only=w1,w2,w3,w4,reads,scale] ' +
    `[--servers=${SERVER_FAMILIES.join(',')}] [--quick] [--fake-loadgen] [--loadgen=PATH] [--no-report] [--verbose]`);
  process.exit(msg ? 2 : 0);
}

function parseArgs(argv) {
  const o = { only: [...WORKLOADS], servers: [...SERVER_FAMILIES], quick: false, fake: false, report: true, verbose: false };
  for (const a of argv) {
    const [k, v] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const list = () => v.split(',').map((s) => s.trim()).filter(Boolean);
    switch (k) {
      case '--only': o.only = list(); break;
      case '--servers': o.servers = list(); break;
      case '--quick': o.quick = true; break;
      case '--fake-loadgen': o.fake = true; break;
      case '--loadgen': o.loadgen = v; break;
      case '--no-report': o.report = false; break;
      case '--verbose': o.verbose = true; break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  for (const w of o.only) if (!WORKLOADS.includes(w)) usage(`unknown workload ${w} (${WORKLOADS.join(', ')})`);
  for (const s of o.servers) if (!SERVER_FAMILIES.includes(s)) usage(`unknown server ${s} (${SERVER_FAMILIES.join(', ')})`);
  return o;
}

// ------------------------------------------------------------------ state

const opts = parseArgs(process.argv.slice(2));
installCleanup();
const ctx = {
  root: ROOT,
  buildDir: path.resolve(ROOT, process.env.SB_BUILD_DIR || 'build'),
  redisUrl: process.env.SB_REDIS_URL,
  databaseUrl: process.env.SB_DATABASE_URL,
  tmp: mkdtempSync(path.join(os.tmpdir(), 'sb-bench-')),
};
// nginx's workers and varnish's child drop root: they must reach the files inside.
chmodSync(ctx.tmp, 0o755);
process.on('exit', () => { try { rmSync(ctx.tmp, { recursive: true, force: true }); } catch { /* best effort */ } });
if (!ctx.redisUrl || !ctx.databaseUrl) usage('SB_REDIS_URL and SB_DATABASE_URL must be set (bench/run starts throwaway servers)');

const plan = makePlan({ quick: opts.quick });
const lg = loadgenCommand({ binary: opts.loadgen, fake: opts.fake, buildDir: ctx.buildDir });
const wants = (server) => opts.servers.includes(familyOf(server));
const started = new Date();
const stamp = started.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const resultsDir = path.join(ROOT, 'bench/results');
const results = {
  schema: 1,
  started_at: started.toISOString(),
  finished_at: null,
  command: process.env.SB_BENCH_COMMAND || `node bench/driver.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  options: { only: opts.only, servers: opts.servers, quick: opts.quick },
  fake_loadgen: opts.fake,
  loadgen: opts.fake ? 'bench/lib/fake_loadgen.mjs' : lg.cmd,
  cpus: { server: process.env.SB_BENCH_SERVER_CPU ?? '1', load: process.env.SB_BENCH_LOAD_CPU ?? '0' },
  plan,
  machine: null,
  runs: [],
};

function save() {
  mkdirSync(resultsDir, { recursive: true });
  const text = `${JSON.stringify(results, null, 1)}\n`;
  writeFileSync(path.join(resultsDir, `${stamp}.json`), text);
  writeFileSync(path.join(resultsDir, 'latest.json'), text);
}

function record(run) {
  results.runs.push(run);
  save();
  return run;
}

// ------------------------------------------------------------------ live runs

/**
 * One server, one transport, one load generator invocation (a ladder of
 * steps, or the idle measurement). Records the run whatever happens.
 */
async function liveRun(workload, label, server, transport, lgOpts) {
  const run = { workload, server, transport, label, ok: false, steps: [], started_at: new Date().toISOString() };
  const t0 = Date.now();
  let handle;
  try {
    handle = await LIVE[server](ctx);
    run.port = handle.port;
    run.server_pid = handle.pid;
    const o = {
      mode: 'live', target: handle.target, transport, host: '127.0.0.1', port: handle.port,
      'server-pid': handle.pid, 'api-key': handle.target === 'switchboard' ? API_KEY : undefined,
      ...lgOpts,
    };
    const res = await runLoadgen(lg, o, {
      verbose: opts.verbose,
      onRecord: (r) => {
        if (r.kind === 'connected') {
          run.connected = r;
          if (r.up < r.conns) log(`${label} connected ${r.up}/${r.conns} in ${fixed(r.seconds)} s`);
        } else if (r.kind === 'step') {
          run.steps.push(r);
          log(stepLine(label, r, o.conns));
        } else if (r.kind === 'idle') {
          run.idle = r;
          log(idleLine(label, r));
        }
      },
    });
    run.loadgen = { argv: res.argv, code: res.code, timed_out: res.timedOut, unparsed: res.unparsed.slice(0, 20), stderr_tail: res.stderr.slice(-1500) };
    run.records = res.records.filter((r) => !['step', 'idle', 'connected'].includes(r.kind));
    if (res.code !== 0 || res.timedOut) {
      throw new Error(`load generator ${res.timedOut ? 'timed out' : `exited ${res.code}`}: ${res.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    if (o.mode === 'live' && !run.steps.length) throw new Error('the load generator reported no step');
    if (o.mode === 'idle' && !run.idle) throw new Error('the load generator reported no idle record');
    run.ok = true;
  } catch (e) {
    run.error = e.message;
    log(`${label} ERROR ${e.message.split('\n')[0]}`);
    if (opts.verbose) log(e.message);
  } finally {
    if (handle) {
      const main = handle.procs[0];
      if (!main.alive()) run.server_exited = true;
      if (run.server_exited || run.error || run.steps.some((st) => !st.pass)) {
        run.server_log_tail = `${main.out}\n${main.err}`.trim().split('\n').slice(-20).join('\n');
      }
      if (run.server_exited) log(`${label} the server exited during the run`);
      await handle.stop();
    }
    run.seconds = (Date.now() - t0) / 1000;
  }
  return record(run);
}

/** The highest passing rate of a ladder, and its step. */
function best(run) {
  const passing = (run.steps ?? []).filter((s) => s.pass);
  return passing.length ? passing.reduce((a, b) => (b.rate > a.rate ? b : a)) : null;
}

async function ladder(key) {
  const w = plan[key];
  log(`== ${w.title}: ${w.conns} connections on ${w.channels} channel(s), rates ${w.rates.join(',')} msg/s`);
  for (const [server, transport] of w.variants) {
    if (!wants(server)) continue;
    const label = `${key.toUpperCase()} ${server} ${transport}`;
    const run = await liveRun(key, label, server, transport, {
      conns: w.conns, channels: w.channels, rates: w.rates, 'stop-after-failures': 2, ...w.timing,
    });
    const b = best(run);
    if (run.ok && key !== 'w4') {
      log(`${label} highest passing rate: ${b ? `${b.rate} msg/s = ${int(b.deliveries_per_s)} deliveries/s` : 'none'}`);
    }
  }
}

async function idle() {
  const w = plan.w3;
  log(`== ${w.title}: ${w.conns} idle connections on ${w.channels} channels`);
  for (const [server, transport] of w.variants) {
    if (!wants(server)) continue;
    await liveRun('w3', `W3 ${server} ${transport}`, server, transport, {
      mode: 'idle', conns: w.conns, channels: w.channels, settle: w.settle,
    });
  }
}

// ------------------------------------------------------------------ reads

/** GET every path once, concurrency at a time; resolves the status counts. */
async function getAll(port, paths, concurrency = 32) {
  const statuses = {};
  let i = 0;
  const bodies = new Map();
  async function worker() {
    while (i < paths.length) {
      const p = paths[i++];
      try {
        const res = await fetch(`http://127.0.0.1:${port}${p}`);
        const body = await res.text();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 200) bodies.set(p, body);
      } catch {
        statuses.error = (statuses.error ?? 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { statuses, bodies };
}

const hotPaths = (server) => Array.from({ length: plan.reads.hotIds }, (_, k) => bookPath(server, k + 1));

/** Writes the JSON Switchboard serves for ids 1..hotIds as static files nginx serves. */
async function writeStatic(port) {
  const root = path.join(ctx.tmp, 'static');
  const { statuses, bodies } = await getAll(port, hotPaths('switchboard'));
  if (bodies.size !== plan.reads.hotIds) throw new Error(`static files: got ${JSON.stringify(statuses)} from switchboard`);
  for (const [p, body] of bodies) {
    const file = path.join(root, p);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body);
  }
  ctx.staticRoot = root;
  return root;
}

async function withRead(server, fn, startOpts) {
  const handle = await READ[server](ctx, startOpts);
  try {
    return await fn(handle);
  } finally {
    await handle.stop();
  }
}

async function readRun(kind, server, fn, startOpts) {
  const run = { workload: 'reads', kind, server, label: `reads ${kind} ${server}`, ok: false, started_at: new Date().toISOString() };
  const t0 = Date.now();
  try {
    await withRead(server, async (h) => {
      run.port = h.port;
      run.server_pid = h.pid;
      await fn(h, run);
    }, startOpts);
    run.ok = true;
  } catch (e) {
    run.error = e.message;
    log(`${run.label} ERROR ${e.message.split('\n')[0]}`);
    if (opts.verbose) log(e.message);
  }
  run.seconds = (Date.now() - t0) / 1000;
  return record(run);
}

function wrkLine(label, r) {
  return `${label} ${int(r.requests_per_s)} req/s p50=${fixed(r.p50_ms, 2)}ms p99=${fixed(r.p99_ms, 2)}ms` +
    `${r.non_2xx ? ` non-2xx=${r.non_2xx}` : ''}${r.socket_errors ? ` socket-errors=${r.socket_errors}` : ''}`;
}

async function reads() {
  const r = plan.reads;
  await fastQuery(ctx.databaseUrl); // a run interrupted mid-stampede left the view behind
  log(`== ${r.title}: hot (ids 1..${r.hotIds} warm, wrk -t1 -c${r.wrkConns} -d${r.hotSeconds}s)`);
  // nginx serves what Switchboard serves: the files come from a Switchboard node.
  if (wants('nginx-static') && !wants('switchboard')) {
    const h = await startSwitchboard(ctx);
    try { await writeStatic(h.port); } finally { await h.stop(); }
  }
  for (const server of r.hot) {
    if (!wants(server)) continue;
    if (server === 'nginx-static' && !ctx.staticRoot) {
      log('reads hot nginx-static skipped: no static files (Switchboard did not serve them)');
      continue;
    }
    await readRun('hot', server, async (h, run) => {
      if (server === 'switchboard' && wants('nginx-static')) await writeStatic(h.port);
      const warm = await getAll(h.port, hotPaths(server));
      run.warm_statuses = warm.statuses;
      if ((warm.statuses[200] ?? 0) !== r.hotIds) throw new Error(`warm-up answers: ${JSON.stringify(warm.statuses)}`);
      const [c0, w0] = [cpuSeconds(h.pid), Date.now()];
      const w = await runWrk({
        root: ROOT, port: h.port, script: 'books_hot.lua', seconds: r.hotSeconds, conns: r.wrkConns,
        env: { WRK_MAX_ID: String(r.hotIds), WRK_PATH_PREFIX: bookPath(server, '') },
      });
      run.wrk = w;
      if (!w.ok) throw new Error(`wrk: no summary (exit ${w.code}): ${w.stderr || w.raw.slice(-300)}`);
      // The server's share of its core during wrk (1.0: the core was busy).
      run.server_cpu_share = (cpuSeconds(h.pid) - c0) / ((Date.now() - w0) / 1000);
      log(`${wrkLine(run.label, w)} server_cpu=${fixed(100 * run.server_cpu_share, 0)}%`);
    }, server === 'nginx-static' ? { staticRoot: ctx.staticRoot } : undefined);
  }

  const stampedeServers = r.stampede.filter(wants);
  if (stampedeServers.length) {
    log(`== ${r.title}: stampede (${r.stampedeRequests} concurrent requests for one cold key, ${r.queryMs} ms query)`);
    await slowQuery(ctx.databaseUrl, r.queryMs / 1000);
    try {
      let n = 0;
      for (const server of stampedeServers) {
        const id = 4000 + n++; // a key no earlier stage touched
        await flushRedis(ctx.redisUrl);
        await readRun('stampede', server, async (h, run) => {
          await resetStatements(ctx.databaseUrl);
          const res = await runLoadgen(lg, {
            mode: 'stampede', target: isSwitchboard(server) ? 'switchboard' : 'seed', host: '127.0.0.1',
            port: h.port, path: bookPath(server, id), requests: r.stampedeRequests, 'server-pid': h.pid,
          }, { verbose: opts.verbose });
          run.loadgen = { argv: res.argv, code: res.code, timed_out: res.timedOut, stderr_tail: res.stderr.slice(-1500) };
          run.stampede = res.records.find((x) => x.kind === 'stampede');
          await sleep(200); // pg_stat_statements counts a statement when it ends
          run.db_queries = await bookQueries(ctx.databaseUrl);
          if (!run.stampede) throw new Error(`no stampede record (exit ${res.code}): ${res.stderr.trim().split('\n').slice(-2).join(' | ')}`);
          const s = run.stampede;
          log(`${run.label} db_queries=${run.db_queries} all_answered=${fixed(s.all_answered_ms, 0)}ms ` +
            `ok=${s.ok}/${s.requests} p50=${fixed(s.p50_ms, 1)}ms p99=${fixed(s.p99_ms, 1)}ms`);
        });
      }
    } finally {
      await fastQuery(ctx.databaseUrl);
    }
  }

  const coldServers = r.cold.filter(wants);
  if (coldServers.length) {
    log(`== ${r.title}: cold misses (Redis flushed, ids uniform over 1..${r.coldIds}, wrk -t1 -c${r.wrkConns} -d${r.coldSeconds}s)`);
    for (const server of coldServers) {
      await flushRedis(ctx.redisUrl);
      await readRun('cold', server, async (h, run) => {
        await resetStatements(ctx.databaseUrl);
        const [c0, w0] = [cpuSeconds(h.pid), Date.now()];
        const w = await runWrk({
          root: ROOT, port: h.port, script: 'books_uniform.lua', seconds: r.coldSeconds, conns: r.wrkConns,
          env: { WRK_MAX_ID: String(r.coldIds), WRK_PATH_PREFIX: bookPath(server, '') },
        });
        run.wrk = w;
        run.server_cpu_share = (cpuSeconds(h.pid) - c0) / ((Date.now() - w0) / 1000);
        await sleep(200);
        run.db_queries = await bookQueries(ctx.databaseUrl);
        run.distinct_keys = w.distinct_keys;
        if (!w.ok) throw new Error(`wrk: no summary (exit ${w.code}): ${w.stderr || w.raw.slice(-300)}`);
        log(`${wrkLine(run.label, w)} db_queries=${run.db_queries} distinct_keys=${w.distinct_keys ?? '?'} ` +
          `server_cpu=${fixed(100 * run.server_cpu_share, 0)}%`);
      });
    }
  }
}

// ------------------------------------------------------------------ scale

async function stats(port) {
  const res = await fetch(`http://127.0.0.1:${port}/stats`, { headers: { 'X-Admin-Key': ADMIN_KEY } });
  if (res.status !== 200) throw new Error(`/stats answered ${res.status}`);
  return res.json();
}

/** Subscribes over SSE on one node; resolves the events seen within ms. */
async function sseProbe(port, channel, ms, onOpen) {
  const ctl = new AbortController();
  const seen = [];
  const res = await fetch(`http://127.0.0.1:${port}/sse?channels=${encodeURIComponent(channel)}`, { signal: ctl.signal });
  if (res.status !== 200) throw new Error(`SSE on ${port} answered ${res.status}`);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const timer = setTimeout(() => ctl.abort(), ms);
  const reading = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = ev.split('\n').find((l) => l.startsWith('data: '));
          if (data) seen.push(JSON.parse(data.slice(6)));
        }
      }
    } catch { /* aborted */ }
  })();
  await onOpen();
  await reading;
  clearTimeout(timer);
  return seen;
}

async function publish(port, channel, data) {
  const res = await fetch(`http://127.0.0.1:${port}/api/publish`, {
    method: 'POST',
    headers: { 'X-Api-Key': API_KEY, 'Content-Type': 'application/json' },
    body: JSON.stringify({ channel, event: 'bench.probe', data }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function scale() {
  const s = plan.scale;
  if (!wants('switchboard')) return;
  log(`== ${s.title}: ${s.nodes} nodes × ${s.connsPerNode} connections, channels per node ${s.channelsPerNode.join('/')}`);
  const run = { workload: 'scale', server: 'switchboard', label: 'SCALE', ok: false, nodes: [], started_at: new Date().toISOString() };
  const t0 = Date.now();
  const handles = [];
  try {
    for (let k = 0; k < s.nodes; k++) {
      handles.push(await startSwitchboard(ctx, { name: `switchboard-${k + 1}`, env: { SB_NODE_ID: `bench-${k + 1}` } }));
    }
    // Cross-node delivery: subscribe on node k+1, publish through node 1.
    run.cross_node = [];
    for (let k = 1; k < s.nodes; k++) {
      const channel = `books:${90000 + k}`;
      const seen = await sseProbe(handles[k].port, channel, 1500, async () => {
        await sleep(200);
        run.cross_node.push({ from: 'bench-1', to: `bench-${k + 1}`, channel, status: await publish(handles[0].port, channel, { probe: k }) });
      });
      run.cross_node[run.cross_node.length - 1].delivered = seen.some((e) => e.channel === channel);
    }
    const before = await Promise.all(handles.map((h) => stats(h.port)));
    // Each node's own subscribers on its own channel set (prefix books:<k+1>, so
    // the sets are disjoint), each published through its own node at its own rate.
    const runs = await Promise.all(handles.map((h, k) => runLoadgen(lg, {
      mode: 'live', target: 'switchboard', transport: 'ws', host: '127.0.0.1', port: h.port,
      'server-pid': h.pid, 'api-key': API_KEY, conns: s.connsPerNode, channels: s.channelsPerNode[k],
      'channel-prefix': `books:${k + 1}`, rates: [s.ratesPerNode[k]], 'stop-after-failures': 1,
      publishers: 4, ...s.timing,
    }, { verbose: opts.verbose })));
    const after = await Promise.all(handles.map((h) => stats(h.port)));
    for (let k = 0; k < s.nodes; k++) {
      const res = runs[k];
      const step = res.records.find((x) => x.kind === 'step');
      const node = {
        node_id: `bench-${k + 1}`, conns: s.connsPerNode, channels: s.channelsPerNode[k], rate: s.ratesPerNode[k],
        connected: res.records.find((x) => x.kind === 'connected'), step,
        pubsub_received: after[k].pubsub.received - before[k].pubsub.received,
        pubsub_delivered: after[k].pubsub.delivered - before[k].pubsub.delivered,
        channel_actors: after[k].actors?.channel?.count,
        ws_connections: after[k].connections?.ws,
        loadgen: { argv: res.argv, code: res.code, timed_out: res.timedOut, stderr_tail: res.stderr.slice(-800) },
      };
      run.nodes.push(node);
      log(`SCALE ${node.node_id} conns=${step?.conns_up ?? '?'}/${node.conns} channels=${node.channels} ` +
        `rate=${node.rate}/s pubsub_received=${node.pubsub_received} delivered=${node.pubsub_delivered} ` +
        `lost=${step?.lost ?? '?'} p99=${fixed(step?.p99_ms, 2)}ms ${step?.pass ? 'PASS' : 'FAIL'}`);
    }
    for (const c of run.cross_node) log(`SCALE cross-node ${c.from} → ${c.to} (${c.channel}): ${c.delivered ? 'delivered' : 'NOT delivered'}`);
    run.ok = run.nodes.every((n) => n.step);
  } catch (e) {
    run.error = e.message;
    log(`SCALE ERROR ${e.message.split('\n')[0]}`);
  } finally {
    for (const h of handles.reverse()) await h.stop();
    run.seconds = (Date.now() - t0) / 1000;
  }
  record(run);
}

// ------------------------------------------------------------------ main

async function main() {
  results.machine = await machineInfo(ctx);
  const est = estimateSeconds(plan, opts.only, opts.servers);
  log(`bench: ${opts.only.join(',')} on ${opts.servers.join(',')}${opts.quick ? ' (quick)' : ''}` +
    `${opts.fake ? ' with the FAKE load generator' : ''}; about ${duration(est)}; ` +
    `servers on CPU ${results.cpus.server}, load on CPU ${results.cpus.load}`);
  results.estimated_seconds = est;
  save();
  const stages = { w1: () => ladder('w1'), w2: () => ladder('w2'), w3: idle, w4: () => ladder('w4'), reads, scale };
  for (const w of WORKLOADS) {
    if (!opts.only.includes(w)) continue;
    const t = Date.now();
    try {
      await stages[w]();
    } catch (e) {
      log(`${w} stage ERROR ${e.message}`);
      record({ workload: w, label: `${w} stage`, ok: false, error: e.message });
    }
    log(`   (${w} took ${duration((Date.now() - t) / 1000)})`);
  }
  results.finished_at = new Date().toISOString();
  results.seconds = (Date.now() - started.getTime()) / 1000;
  save();
  log(`bench: results in bench/results/${stamp}.json (and latest.json), ${duration(results.seconds)}`);
  if (opts.report) {
    const { generate } = await import('./report/generate.mjs');
    const out = await generate({ root: ROOT, results, resultsFile: `bench/results/${stamp}.json` });
    log(`bench: wrote ${path.relative(ROOT, out.markdown)} and ${out.plots.length} plot(s) in docs/bench/`);
  }
}

main().then(() => process.exit(0), (e) => {
  log(`driver: ${e.stack ?? e}`);
  try { save(); } catch { /* nothing more to do */ }
  process.exit(1);
});
