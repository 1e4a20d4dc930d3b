// cluster_view — what operators see: /stats' cluster view built from the
// nodes' heartbeats in Redis (a stopped node leaves it at once, a silent one
// within node_ttl_ms), /stats/cluster and the /admin page behind the admin
// key (X-Admin-Key, or HTTP Basic for browsers), /metrics' fan-out figures,
// and the demo app's files served at / with its index.html fallback.
// Never: waits for time; every wait is for a condition with a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, startNode, waitFor, ADMIN_KEY, REDIS_BRIDGES, uniquePrefix, rawRequest } from './lib/harness.mjs';

const FAST_BEATS = { SB_HEARTBEAT_MS: '200', SB_NODE_TTL_MS: '1500' };

const basic = (user, key) => 'Basic ' + Buffer.from(`${user}:${key}`).toString('base64');
const admin = (node, path, headers = { 'X-Admin-Key': ADMIN_KEY }) => fetch(node.url + path, { headers });
const clusterIds = async (node) => (await (await admin(node, '/stats')).json()).cluster.nodes.map((n) => n.node_id).sort();

test('the cluster view lists every live node; a stopped node leaves it, a silent one ages out', async (t) => {
  const nodes = await startCluster(3, FAST_BEATS, { name: 'view' });
  t.after(() => Promise.all(nodes.map((n) => n.stop())));
  const ids = (await Promise.all(nodes.map(async (n) => (await (await admin(n, '/stats')).json()).node_id))).sort();
  await waitFor(async () => JSON.stringify(await clusterIds(nodes[0])) === JSON.stringify(ids), {
    what: 'node 0 to list all three nodes',
  });
  const view = (await (await admin(nodes[1], '/stats')).json()).cluster.nodes;
  for (const n of view) {
    assert.equal(typeof n.connections, 'number');
    assert.match(n.last_seen, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }

  // A clean stop (SIGTERM) leaves the view at once (well before the ttl).
  const stoppedId = (await (await admin(nodes[2], '/stats')).json()).node_id;
  assert.equal((await nodes[2].stop()).code, 0);
  await waitFor(async () => !(await clusterIds(nodes[0])).includes(stoppedId), { ms: 1400, what: 'the stopped node to leave' });

  // A node that dies without a word ages out after node_ttl_ms.
  const killedId = (await (await admin(nodes[1], '/stats')).json()).node_id;
  nodes[1].child.kill('SIGKILL');
  await nodes[1].exited;
  await waitFor(async () => !(await clusterIds(nodes[0])).includes(killedId), { ms: 5000, what: 'the killed node to age out' });
  assert.deepEqual(await clusterIds(nodes[0]), [ids.find((id) => id !== stoppedId && id !== killedId)]);
});

test('/stats/cluster gives every node its full stats document', async (t) => {
  const nodes = await startCluster(2, FAST_BEATS, { name: 'full' });
  t.after(() => Promise.all(nodes.map((n) => n.stop())));
  const doc = await waitFor(
    async () => {
      const d = await (await admin(nodes[0], '/stats/cluster')).json();
      return d.nodes.length === 2 && d;
    },
    { what: 'both nodes in /stats/cluster' },
  );
  for (const n of doc.nodes) {
    for (const section of ['actors', 'connections', 'cache', 'pubsub', 'fanout']) assert.ok(n[section], `${section} of ${n.node_id}`);
    assert.equal(n.actors.redis_bridge.count, REDIS_BRIDGES); // one per Redis
    assert.ok(n.last_seen);
  }
});

test('the operator endpoints take X-Admin-Key or HTTP Basic with the key as password; /admin is a page', async (t) => {
  const node = await startNode({ name: 'adminauth', env: { SB_REDIS_KEY_PREFIX: uniquePrefix('adminauth') } });
  t.after(() => node.stop());
  for (const path of ['/stats', '/stats/cluster', '/admin']) {
    const none = await admin(node, path, {});
    assert.equal(none.status, 401, `${path} without a key`);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm=/, `${path} asks a browser for credentials`);
    assert.equal((await admin(node, path, { Authorization: basic('ops', 'wrong') })).status, 401, `${path} wrong key`);
    assert.equal((await admin(node, path, { 'X-Admin-Key': 'wrong' })).status, 401, `${path} wrong header`);
    // Any user name; keys of every length (base64 padding) work.
    for (const user of ['admin', 'ops', 'x'])
      assert.equal((await admin(node, path, { Authorization: basic(user, ADMIN_KEY) })).status, 200, `${path} as ${user}`);
  }
  const page = await admin(node, '/admin', { Authorization: basic('ops', ADMIN_KEY) });
  assert.match(page.headers.get('content-type'), /^text\/html/);
  const html = await page.text();
  assert.match(html, /\/stats\/cluster/, 'the page reads the cluster view');
  assert.match(html, /<canvas/, 'the page draws charts');
});

test('/metrics includes the fan-out figures with HELP and TYPE', async (t) => {
  const node = await startNode({ name: 'metrics', env: { SB_REDIS_KEY_PREFIX: uniquePrefix('metrics') } });
  t.after(() => node.stop());
  const text = await (await fetch(node.url + '/metrics')).text();
  for (const name of ['switchboard_fanout_notified_total', 'switchboard_fanout_running']) {
    assert.match(text, new RegExp(`^# HELP ${name} `, 'm'));
    assert.match(text, new RegExp(`^# TYPE ${name} (counter|gauge)$`, 'm'));
    assert.match(text, new RegExp(`^${name} \\d+$`, 'm'));
  }
  assert.match(text, /^switchboard_actors\{kind="user_registry"\} 1$/m);
  assert.match(text, /^switchboard_actors\{kind="fanout"\} 1$/m);
});

test('the demo app is served at /: files, an index.html fallback for app routes, JSON 404s under /api', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sb-web-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(join(root, 'assets', 'app-1a2b.js'), 'console.log("app")');
  const node = await startNode({ name: 'web', env: { SB_WEB_ROOT: root, SB_REDIS_KEY_PREFIX: uniquePrefix('web') } });
  t.after(() => node.stop());

  const index = await fetch(node.url + '/');
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.equal(await index.text(), '<!doctype html><div id="root"></div>');
  assert.equal(index.headers.get('cache-control'), 'no-cache', 'index.html is revalidated (new deploys show)');

  const asset = await fetch(node.url + '/assets/app-1a2b.js');
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('content-type'), /^text\/javascript/);
  assert.match(asset.headers.get('cache-control'), /immutable/, 'hashed assets are cached for good');
  const again = await fetch(node.url + '/assets/app-1a2b.js', { headers: { 'If-None-Match': asset.headers.get('etag') } });
  assert.equal(again.status, 304);

  const route = await fetch(node.url + '/books/5');
  assert.equal(route.status, 200, 'an app route gets index.html (a reload keeps the page)');
  assert.match(await route.text(), /id="root"/);
  assert.equal((await fetch(node.url + '/assets/missing.js')).status, 404, 'a missing asset is a 404, not the app');
  const api = await fetch(node.url + '/api/nothing-here');
  assert.equal(api.status, 404);
  assert.equal((await api.json()).error.code, 'not_found');

  // Nothing outside the root, however the path is spelled.
  for (const target of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/assets/../../etc/passwd']) {
    const { data } = await rawRequest(node.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(data, /^HTTP\/1\.1 (200|400|404) /, `${target}: ${data.slice(0, 80)}`);
    assert.doesNotMatch(data, /root:x:0:0/, `${target} must not leak files`);
  }
});
