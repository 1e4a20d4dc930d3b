// http_limits — the protocol layer's answers to bad requests over raw
// sockets: oversized bodies and headers get 413 with the contract's error
// body, malformed requests 400, unknown paths 404, wrong methods 405 — and
// the node keeps serving everyone else afterwards.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, rawRequest, uniquePrefix } from './lib/harness.mjs';

let node;
before(async () => {
  node = await startNode({ env: { SB_REDIS_KEY_PREFIX: uniquePrefix('limits'), SB_MAX_BODY_BYTES: '65536' } });
});

async function stillServing() {
  const res = await fetch(`${node.url}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
}

test('a body over the limit gets 413 too_large and the node keeps serving', async () => {
  const res = await fetch(`${node.url}/api/books/1`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: 'x'.repeat(70000),
  });
  assert.equal(res.status, 413);
  const body = await res.json();
  assert.equal(body.error.code, 'too_large');
  assert.equal(typeof body.error.message, 'string');
  await stillServing();
});

test('a chunked body that grows past the limit gets 413', async () => {
  const chunk = 'a'.repeat(40000);
  const req =
    'POST /api/books/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
    `${(40000).toString(16)}\r\n${chunk}\r\n`.repeat(2) + '0\r\n\r\n';
  const { data } = await rawRequest(node.port, req);
  assert.match(data, /^HTTP\/1\.1 413 /);
  assert.match(data, /"code":"too_large"/);
  await stillServing();
});

test('an oversized header gets 413', async () => {
  const req = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(10000)}\r\n\r\n`;
  const { data } = await rawRequest(node.port, req);
  assert.match(data, /^HTTP\/1\.1 413 /);
  await stillServing();
});

test('malformed requests get 400 and the connection is closed', async () => {
  for (const garbage of ['GARBAGE\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n']) {
    const { data, timedOut } = await rawRequest(node.port, garbage);
    assert.equal(timedOut, false, 'closed by the server');
    assert.match(data, /^HTTP\/1\.1 400 /, JSON.stringify(garbage));
    assert.match(data, /"code":"bad_request"/);
  }
  await stillServing();
});

test('keep-alive serves several requests on one connection', async () => {
  const one = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
  const last = 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const { data } = await rawRequest(node.port, one + one + last);
  assert.equal((data.match(/HTTP\/1\.1 200 OK/g) || []).length, 3);
});

test('unknown paths are 404, wrong methods 405, both with error bodies', async () => {
  const missing = await fetch(`${node.url}/api/nothing`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'not_found');
  const wrong = await fetch(`${node.url}/api/books/1`, { method: 'DELETE' });
  assert.equal(wrong.status, 405);
  assert.equal((await wrong.json()).error.code, 'method_not_allowed');
});
