// plots — the report's PNG charts, drawn by gnuplot from a results file:
// W1 deliveries/s vs p99, W2 msg/s vs CPU per message, W3 bytes per idle
// connection, reads req/s.
// Owns: the data files and gnuplot scripts (in a temporary folder) and the
// PNGs in docs/bench/. Must never: fail the report when gnuplot is missing or
// a chart has no data (that chart is skipped, and the report says so).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runsOf } from './summary.mjs';

function terminal() {
  const r = spawnSync('gnuplot', ['-e', 'set terminal'], { encoding: 'utf8' });
  if (r.error) return null;
  const text = `${r.stdout}${r.stderr}`;
  if (/\bpngcairo\b/.test(text)) return "pngcairo size 900,560 font 'sans,10'";
  if (/\bpng\b/.test(text)) return 'png size 900,560';
  return null;
}

const q = (s) => `"${String(s).replace(/"/g, '\\"')}"`;

/** Runs one gnuplot script; resolves true when the PNG was written. */
function gnuplot(dir, name, script) {
  const file = path.join(dir, `${name}.gp`);
  writeFileSync(file, script);
  const r = spawnSync('gnuplot', [file], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`report: gnuplot ${name} failed: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}\n`);
    return false;
  }
  return true;
}

/** Draws every chart that has data; resolves [{ name, file, title }]. */
export function drawPlots(results, outDir) {
  const term = terminal();
  if (!term) {
    process.stderr.write('report: gnuplot with a png terminal not found: no plots\n');
    return [];
  }
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sb-plots-'));
  const made = [];
  const head = (png, title) => `set terminal ${term}\nset output ${q(png)}\nset title ${q(title)}\n` +
    'set grid\nset key outside right top\nset datafile separator "\\t"\n';
  try {
    // W1: one series per server/transport; x deliveries/s, y p99 (log).
    const w1 = runsOf(results, 'w1').filter((r) => r.steps?.length);
    if (w1.length) {
      const series = w1.map((r, i) => {
        const f = path.join(tmp, `w1_${i}.tsv`);
        writeFileSync(f, r.steps.map((s) => `${s.deliveries_per_s}\t${Math.max(s.p99_ms, 0.01)}\t${s.rate}`).join('\n') + '\n');
        return `${q(f)} using 1:2 with linespoints title ${q(`${r.server} ${r.transport}`)}`;
      });
      const png = path.join(outDir, 'w1_p99.png');
      if (gnuplot(tmp, 'w1', `${head(png, 'W1 broadcast, 5,000 connections on one channel: p99 vs deliveries/s')}` +
        'set xlabel "deliveries per second"\nset ylabel "p99 latency (ms, log)"\nset logscale y\n' +
        'set arrow from graph 0, first 200 to graph 1, first 200 nohead dt 2\n' +
        `plot ${series.join(', \\\n  ')}\n`)) made.push({ name: 'w1', file: png, title: 'W1: p99 latency against deliveries per second (dashed: the 200 ms pass line)' });
    }
    // W2: msg/s vs CPU µs per message.
    const w2 = runsOf(results, 'w2').filter((r) => r.steps?.length);
    if (w2.length) {
      const series = w2.map((r, i) => {
        const f = path.join(tmp, `w2_${i}.tsv`);
        writeFileSync(f, r.steps.map((s) => `${s.rate}\t${s.cpu_us_per_message}\t${s.pass ? 1 : 0}`).join('\n') + '\n');
        return `${q(f)} using 1:2 with linespoints title ${q(`${r.server} ${r.transport}`)}`;
      });
      const png = path.join(outDir, 'w2_cpu.png');
      if (gnuplot(tmp, 'w2', `${head(png, 'W2: 10,000 connections on their own channels: server CPU per message')}` +
        'set xlabel "published messages per second"\nset ylabel "server CPU per message (µs, log)"\nset logscale xy\n' +
        'set arrow from graph 0, first 15 to graph 1, first 15 nohead dt 2\n' +
        `plot ${series.join(', \\\n  ')}\n`)) made.push({ name: 'w2', file: png, title: 'W2: server CPU per message against the publish rate (dashed: the 15 µs target)' });
    }
    // W3: bars of bytes per idle connection.
    const w3 = runsOf(results, 'w3').filter((r) => r.idle);
    if (w3.length) {
      const f = path.join(tmp, 'w3.tsv');
      writeFileSync(f, w3.map((r) => `${r.server} ${r.transport}\t${r.idle.bytes_per_conn}`).join('\n') + '\n');
      const png = path.join(outDir, 'w3_memory.png');
      if (gnuplot(tmp, 'w3', `${head(png, `W3: server RSS per idle connection (${w3[0].idle.conns} connections)`)}` +
        'set style data histograms\nset style fill solid 0.7 border -1\nset boxwidth 0.7\nunset key\n' +
        'set ylabel "bytes per connection"\nset yrange [0:*]\nset xtics rotate by -30\n' +
        'set arrow from graph 0, first 4000 to graph 1, first 4000 nohead dt 2\n' +
        `plot ${q(f)} using 2:xtic(1)\n`)) made.push({ name: 'w3', file: png, title: 'W3: bytes of server RSS per idle connection (dashed: the 4 KB target)' });
    }
    // Reads: hot and cold req/s per server.
    const reads = runsOf(results, 'reads').filter((r) => r.ok && r.wrk?.ok);
    const servers = [...new Set(reads.map((r) => r.server))];
    if (servers.length) {
      const f = path.join(tmp, 'reads.tsv');
      const v = (s, kind) => reads.find((r) => r.server === s && r.kind === kind)?.wrk?.requests_per_s ?? '-';
      writeFileSync(f, servers.map((s) => `${s}\t${v(s, 'hot')}\t${v(s, 'cold')}`).join('\n') + '\n');
      const png = path.join(outDir, 'reads_rps.png');
      if (gnuplot(tmp, 'reads', `${head(png, 'Cached reads: requests per second (wrk -t1 -c64)')}` +
        'set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.7 border -1\n' +
        'set datafile missing "-"\nset ylabel "requests per second"\nset yrange [0:*]\nset xtics rotate by -30\n' +
        `plot ${q(f)} using 2:xtic(1) title "hot (ids 1..1000 warm)", '' using 3 title "cold misses (ids over 100k)"\n`)) {
        made.push({ name: 'reads', file: png, title: 'Cached reads: requests per second, hot and cold' });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return made;
}

