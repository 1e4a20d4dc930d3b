// limits — the abuse limits of a node, each in config: authenticated
// requests per token per second (429 rate_limited with Retry-After, counted
// in Redis so it holds across nodes), open connections per client address
// and per node (closed at accept, whatever the transport: WebSocket and SSE
// count too), and the node keeps serving everyone else meanwhile.
// Never: waits for time; bursts are sent at once and counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { api, register, stats, waitFor } from './lib/harness.mjs';
import { liveCluster, openWs, sse } from './lib/live.mjs';

test('a token over requests_per_token_per_s gets 429 with Retry-After, on every node; others are served', async (t) => {
  const [a, b] = await liveCluster(t, 2, { SB_REQUESTS_PER_TOKEN_PER_S: '5' }, { name: 'tokenrate' });
  const busy = await register(a);
  const calm = await register(a);
  // One burst, split over both nodes: the budget is the token's, not a node's.
  const burst = await Promise.all(
    Array.from({ length: 16 }, (_, i) => api(i % 2 ? b : a, 'GET', '/api/me/balance', { token: busy.token })),
  );
  const ok = burst.filter((r) => r.status === 200).length;
  const limited = burst.filter((r) => r.status === 429);
  assert.ok(ok >= 5 && ok <= 10, `about one second's budget passes (a burst may straddle two seconds): ${ok}`);
  assert.ok(limited.length >= 6, `the rest is refused: ${limited.length}`);
  for (const r of limited) {
    assert.equal(r.body.error.code, 'rate_limited');
    assert.equal(r.headers.get('retry-after'), '1');
  }
  // Another token is untouched, and the limited one recovers by itself.
  assert.equal((await api(b, 'GET', '/api/me/balance', { token: calm.token })).status, 200);
  await waitFor(async () => (await api(a, 'GET', '/api/me/balance', { token: busy.token })).status === 200, {
    what: 'the limited token to be served again in a later second',
  });
});

/** Opens a raw TCP connection and resolves once it is connected. */
function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/**
 * Resolves true when the server closes `socket` (before we send anything),
 * false if it is still open after `ms` (an idle connection is otherwise
 * kept far longer than that).
 */
function closedByServer(socket, ms = 5000) {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('error', () => {});
  });
}

test('connections past max_connections_per_ip are closed at accept; WebSocket and SSE count; a freed place is reused', async (t) => {
  const [node] = await liveCluster(t, 1, { SB_MAX_CONNECTIONS_PER_IP: '4' }, { name: 'perip' });
  // Four places taken by one address, whatever the transport.
  const ws = await openWs(node);
  const stream = await sse(node, { channels: ['books:1'] });
  const idle = [await connect(node.port), await connect(node.port)];
  const fifth = await connect(node.port);
  assert.equal(await closedByServer(fifth), true, 'the fifth connection is closed by the server');
  // Asking /stats needs a place too: free one first.
  idle[0].destroy();
  // The place is back once the server has seen the close.
  const s = await waitFor(
    async () => {
      try {
        return await stats(node);
      } catch {
        return false;
      }
    },
    { what: '/stats to be served from the freed place' },
  );
  assert.ok(s.connections.refused >= 1, `refusals are counted: ${JSON.stringify(s.connections)}`);
  assert.equal(ws.readyState, 1, 'the WebSocket is still open');
  assert.equal(stream.ended, false, 'the SSE stream is still open');
  idle[1].destroy();
});

test('max_connections bounds every open socket of the node', async (t) => {
  const [node] = await liveCluster(t, 1, { SB_MAX_CONNECTIONS: '3', SB_MAX_CONNECTIONS_PER_IP: '0' }, { name: 'nodecap' });
  const ws = await openWs(node);
  const held = [await connect(node.port), await connect(node.port)];
  const fourth = await connect(node.port);
  assert.equal(await closedByServer(fourth), true, 'the node is full: the fourth socket is closed');
  held[0].destroy();
  await waitFor(
    async () => {
      try {
        return (await fetch(node.url + '/healthz')).status === 200;
      } catch {
        return false;
      }
    },
    { what: 'a freed place to serve a request' },
  );
  assert.equal(ws.readyState, 1);
  held[1].destroy();
});
