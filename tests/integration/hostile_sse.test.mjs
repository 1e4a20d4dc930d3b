// hostile_sse — the hostile-client suite, Server-Sent Events side (issue
// 14): one client opens /sse on a channel and never reads its socket while
// the server's publisher (POST /api/publish with the API key, from an
// address of its own) floods that channel with 32 KiB messages, and a
// bystander on a third address times GET /healthz. The test asserts the
// node's RSS stays within RSS_BOUND of its baseline, every bystander request
// is answered within LATENCY_BOUND_MS, and the node ends the stream (docs:
// "a connection over its outbound bound: the SSE stream ends", past
// live_max_queue frames or live_max_queue_bytes) — seen in the node's own
// count of open SSE streams (/stats connections.sse) and, reading again, in
// the socket's close.
// Never: sleeps for time; waits for anything but answers, counters or a
// close, with a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_KEY, stats } from './lib/harness.mjs';
import { uniqueId } from './lib/live.mjs';
import { hostileNode, underAttack, measured, assertHeld, httpAttacker, call, agentFrom, drop } from './lib/hostile.mjs';

const show = (o) => JSON.stringify(o).slice(0, 1500);

test('an SSE client that never reads while its channel is flooded: the node ends the stream, memory and bystander hold', async (t) => {
  const node = await hostileNode(t, {}, 'hsse');
  const channel = `comments:chapter:${uniqueId()}`;
  const publisher = agentFrom('127.0.0.3', 4);
  const pad = 'p'.repeat(32 * 1024);
  const result = await underAttack(node, async ({ signal }) => {
    const conn = await httpAttacker(node, { keep: false });
    try {
      await conn.send(`GET /sse?channels=${channel} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`, signal);
      // The head (and the stream's first bytes) arrive, then it stops reading.
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no SSE response head within 5 s')), 5000);
        conn.socket.once('data', (d) => {
          clearTimeout(timer);
          if (!/^HTTP\/1\.1 200 /.test(d.toString('latin1'))) reject(new Error(`SSE refused: ${d.toString('latin1').slice(0, 300)}`));
          else resolve();
        });
      });
      conn.pause();
      const streams = async () => (await stats(node)).connections?.sse;
      const before = await streams();
      let published = 0;
      let refused = 0;
      let ended = false;
      // Four publishes in flight at a time; every 20, ask the node whether the stream is still open.
      while (!signal.aborted && published < 20000 && !ended) {
        const answers = await Promise.all(
          Array.from({ length: 4 }, (_, i) =>
            call(node, { method: 'POST', path: '/api/publish', headers: { 'X-Api-Key': API_KEY }, body: { channel, event: 'comment.created', data: { n: published + i, pad } } }, { agent: publisher }),
          ),
        );
        for (const a of answers) a.status === 202 ? published++ : refused++;
        if (refused > 20) break;
        if (published % 20 < 4) ended = (await streams()) === 0;
      }
      ended ||= (await streams()) === 0;
      // Reading again: what was queued, then the node's close (if it ended the stream).
      conn.socket.resume();
      const closed = conn.closed || (await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), 3000);
        conn.socket.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      }));
      return { streamsBefore: before, published, refused, endedByNode: ended, socketClosed: closed };
    } finally {
      drop(conn.socket);
    }
  });
  measured(t, result, 'sse: never reads, channel flooded');
  const o = result.attackerOutcome;
  assert.equal(o.error, undefined, show(o));
  assert.equal(o.streamsBefore, 1, `the node counted the stream open: ${show(o)}`);
  assert.ok(o.refused <= 20, `the publisher was not refused: ${show(o)}`);
  assert.ok(o.endedByNode, `the node ended the stream (connections.sse back to 0): ${show(o)}`);
  assert.ok(o.socketClosed, `and closed its connection: ${show(o)}`);
  assertHeld(result, 'sse: never reads, channel flooded');
});
