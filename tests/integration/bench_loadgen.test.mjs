// bench_loadgen — the benchmark's load generator (bench/loadgen, built with
// the node) against a real node, small: it must not rot between benchmark
// runs. A broadcast step over WebSocket and SSE delivers everything (pass),
// a wrong API key is reported as failed publishes (never a pass), and the
// idle mode reads the node's RSS. Figures are not asserted: performance is
// measured by bench/run, never by timed tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { startNode, uniquePrefix, API_KEY } from './lib/harness.mjs';

const loadgen = join(dirname(process.env.SB_BINARY), 'bench', 'sb_loadgen');

function run(node, args) {
  const port = new URL(node.url).port;
  const res = spawnSync(loadgen, [`--port=${port}`, `--server-pid=${node.child.pid}`, ...args], {
    encoding: 'utf8',
    timeout: 120000,
  });
  assert.equal(res.status, 0, `sb_loadgen exited ${res.status}: ${res.stderr}`);
  return res.stdout.trim().split('\n').map((line) => JSON.parse(line));
}

test('the load generator measures a broadcast over WebSocket and SSE, and sees refused publishes', async (t) => {
  assert.ok(existsSync(loadgen), `${loadgen} is built with the node`);
  const node = await startNode({ name: 'loadgen', env: { SB_REDIS_KEY_PREFIX: uniquePrefix('loadgen') } });
  const common = ['--target=switchboard', '--conns=200', '--channels=2', '--rates=20',
    '--settle=0.2', '--warmup=0.5', '--measure=1', '--drain=5', '--publishers=2', '--sources=4'];
  for (const transport of ['ws', 'sse']) {
    const records = run(node, [...common, `--transport=${transport}`, `--api-key=${API_KEY}`]);
    const connected = records.find((r) => r.kind === 'connected');
    assert.equal(connected.up, 200, `${transport}: every connection up`);
    const step = records.find((r) => r.kind === 'step');
    assert.ok(step.expected > 0, `${transport}: messages were owed`);
    assert.equal(step.lost, 0, `${transport}: ${JSON.stringify(step)}`);
    assert.equal(step.received, step.expected);
    assert.equal(step.pass, true, `${transport}: ${JSON.stringify(step)}`);
    assert.ok(step.server_cpu_s >= 0 && step.server_rss_bytes > 0, 'the node\'s /proc figures were read');
  }
  const refused = run(node, [...common, '--transport=ws', '--api-key=wrong-key', '--stop-after-failures=1'])
    .find((r) => r.kind === 'step');
  assert.equal(refused.pass, false);
  assert.ok(refused.publish_errors > 0 && refused.publish_error_statuses['401'] > 0, JSON.stringify(refused));
  const idle = run(node, ['--mode=idle', '--target=switchboard', '--conns=100', '--channels=10', '--settle=0.2'])
    .find((r) => r.kind === 'idle');
  assert.equal(idle.up, 100);
  assert.ok(idle.rss_after > 0 && idle.rss_before > 0, JSON.stringify(idle));
});
