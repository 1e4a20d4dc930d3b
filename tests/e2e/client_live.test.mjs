// client_live — the JS client (clients/js, built to dist/) against real
// nodes: subscribe → push with hints → a forced disconnect (a TCP forwarder
// cut and refusing) → reconnect with backoff → resume with `since` / the
// SSE resume id, missing nothing and repeating nothing; recovered:false when
// the history no longer reaches back; 1001 on drain → the next node.
// Never: waits for time (every wait is for an event the client reports or a
// figure the node reports, with a deadline), or compares offsets other than
// for equality.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import EventSource from 'eventsource';
import { register, stats, waitFor } from '../integration/lib/harness.mjs';
import { liveCluster, published, tcpProxy, uniqueId } from '../integration/lib/live.mjs';
import { newBook, newChapter, postComment, sendGift, setCoins } from '../integration/lib/platform.mjs';
import { createClient } from '../../clients/js/dist/index.js';

/** A QueryClient stand-in that records what the hints asked of it. */
function recordingQueryClient() {
  return {
    invalidated: [],
    set: [],
    invalidateQueries({ queryKey }) {
      this.invalidated.push(queryKey);
    },
    setQueryData(queryKey, data) {
      this.set.push([queryKey, data]);
    },
  };
}

/** A client whose events are recorded: `log.states`, `log.pushes`, `log.subscribed`, `log.recovered`. */
function recordedClient(t, options) {
  const client = createClient({ WebSocket, EventSource, network: null, backoff: { baseMs: 50, maxMs: 400 }, ...options });
  const log = { states: [], pushes: [], subscribed: [], recovered: [] };
  client.on('state', (s) => log.states.push(s));
  client.on('push', (p) => log.pushes.push(p));
  client.on('subscribed', (s) => log.subscribed.push(s));
  client.on('recovered', (r) => log.recovered.push(r));
  t.after(() => client.close());
  return { client, log };
}

const stateSince = (log, from, state) => log.states.slice(from).find((s) => s.state === state);

test('ws: subscribe, push with hints, forced disconnect, reconnect and resume with since — once and in order', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'clientws' });
  const proxy = await tcpProxy(node);
  t.after(() => proxy.close());
  const author = await register(node);
  const book = await newBook(node, author.token);
  const chapter = await newChapter(node, author.token, book.id);
  const channel = `comments:chapter:${chapter.id}`;
  const queryClient = recordingQueryClient();
  const { client, log } = recordedClient(t, { url: proxy.url, queryClient });
  const bodies = [];
  client.subscribe(channel, (push) => bodies.push(push.data.body));

  await waitFor(() => log.subscribed.some((s) => s.channel === channel), { what: 'the subscribe reply' });
  assert.equal((await postComment(node, author.token, chapter.id, 'one')).status, 201);
  await waitFor(() => bodies.length === 1, { what: 'the first comment pushed' });
  assert.deepEqual(queryClient.invalidated, [['comments', 'chapter', chapter.id]], 'the hint invalidated the comments query');
  const offsetBefore = client.offset(channel);

  const mark = log.states.length;
  proxy.refuse(true); // the connection drops, and the node looks unreachable
  await waitFor(() => stateSince(log, mark, 'waiting'), { what: 'the client to notice the drop' });
  for (const body of ['two', 'three']) assert.equal((await postComment(node, author.token, chapter.id, body)).status, 201);
  await waitFor(async () => (await stats(node)).connections.ws === 0, { what: 'the node to close its side' });
  assert.equal(client.offset(channel), offsetBefore, 'nothing arrived while away');
  // While refused, attempts fail and the waits grow.
  await waitFor(() => log.states.slice(mark).filter((s) => s.state === 'waiting').length >= 3, { what: 'three failed attempts' });
  const waits = log.states.slice(mark).filter((s) => s.state === 'waiting').map((s) => s.retryInMs);
  assert.ok(waits[2] > waits[0], `the waits grow: ${waits}`);

  proxy.refuse(false);
  await waitFor(() => log.recovered.some((r) => r.channel === channel), { what: 'the resume reply' });
  assert.deepEqual(log.recovered, [{ channel, recovered: true }]);
  await waitFor(() => bodies.length === 3, { what: 'the missed comments' });
  assert.equal((await postComment(node, author.token, chapter.id, 'four')).status, 201);
  await waitFor(() => bodies.length === 4, { what: 'a live comment after the resume' });
  assert.deepEqual(bodies, ['one', 'two', 'three', 'four'], 'every comment once, in order');
});

test('ws: recovered:false when the history no longer reaches back invalidates the channel\'s queries', async (t) => {
  const [node] = await liveCluster(t, 1, { SB_CHANNEL_HISTORY_SIZE: '2' }, { name: 'clientlost' });
  const proxy = await tcpProxy(node);
  t.after(() => proxy.close());
  const chapterId = uniqueId();
  const channel = `comments:chapter:${chapterId}`;
  const queryClient = recordingQueryClient();
  const { client, log } = recordedClient(t, { url: proxy.url, queryClient });
  client.subscribe(channel);
  await waitFor(() => log.subscribed.length === 1, { what: 'the subscribe reply' });
  await published(node, channel, 'comment.created', { n: 0 });
  await waitFor(() => log.pushes.length === 1, { what: 'the first push' });

  const mark = log.states.length;
  proxy.refuse(true);
  await waitFor(() => stateSince(log, mark, 'waiting'), { what: 'the client to notice the drop' });
  for (let n = 1; n <= 5; n++) await published(node, channel, 'comment.created', { n }); // more than the history keeps
  proxy.refuse(false);
  await waitFor(() => log.recovered.length === 1, { what: 'the resume reply' });
  assert.deepEqual(log.recovered, [{ channel, recovered: false }]);
  assert.deepEqual(queryClient.invalidated, [['comments', 'chapter', chapterId]], 'the channel\'s queries are refetched instead');
  await published(node, channel, 'comment.created', { n: 6 });
  await waitFor(() => log.pushes.length === 2, { what: 'live pushes again' });
  assert.deepEqual(log.pushes.map((p) => p.data.n), [0, 6]);
});

test("sse: a resume the history no longer reaches (event: recovered) invalidates that channel's queries, and only that one's", async (t) => {
  const [node] = await liveCluster(t, 1, { SB_CHANNEL_HISTORY_SIZE: '2' }, { name: 'clientsselost' });
  const proxy = await tcpProxy(node);
  t.after(() => proxy.close());
  const chapterId = uniqueId();
  const lossy = `comments:chapter:${chapterId}`;
  const quiet = `books:${uniqueId()}`;
  const queryClient = recordingQueryClient();
  const { client, log } = recordedClient(t, { url: proxy.url, transport: 'sse', queryClient });
  client.subscribe(lossy);
  client.subscribe(quiet);
  await waitFor(() => log.subscribed.length === 2, { what: 'the stream to open' });
  await published(node, lossy, 'comment.created', { n: 0 });
  await waitFor(() => log.pushes.length === 1, { what: 'the first push' });

  const mark = log.states.length;
  proxy.refuse(true);
  await waitFor(() => stateSince(log, mark, 'waiting'), { what: 'the client to notice the drop' });
  for (let n = 1; n <= 5; n++) await published(node, lossy, 'comment.created', { n }); // more than the history keeps
  proxy.refuse(false);
  await waitFor(() => log.recovered.some((r) => r.recovered === false), { what: 'the recovered event' });
  assert.deepEqual(log.recovered.filter((r) => r.recovered === false), [{ channel: lossy, recovered: false }]);
  assert.deepEqual(queryClient.invalidated, [['comments', 'chapter', chapterId]], "only the lossy channel's queries are refetched");
  await waitFor(() => log.pushes.length === 3, { what: 'what the history still held' });
  assert.deepEqual(log.pushes.map((p) => p.data.n), [0, 4, 5]);
});

test('ws: a draining node (1001) sends the client to the next node, where it resumes', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'clientdrain' });
  const channel = `books:${uniqueId()}`;
  const { client, log } = recordedClient(t, { url: [a.url, b.url] });
  client.subscribe(channel);
  await waitFor(() => log.subscribed.length === 1, { what: 'the subscribe reply on a' });
  await published(a, channel, 'book.updated', { n: 1 });
  await waitFor(() => log.pushes.length === 1, { what: 'the first push' });

  await a.stop();
  assert.ok(log.states.some((s) => s.state === 'waiting' && s.code === 1001), 'told 1001 going away');
  await waitFor(() => log.recovered.length === 1, { what: 'the resume on b' });
  assert.deepEqual(log.recovered, [{ channel, recovered: true }]);
  assert.equal((await stats(b)).connections.ws, 1, 'the client is on b now');
  await published(b, channel, 'book.updated', { n: 2 });
  await waitFor(() => log.pushes.length === 2, { what: 'pushes through b' });
  assert.deepEqual(log.pushes.map((p) => p.data.n), [1, 2]);
});

test('sse: user:me pushes set the balance, and a dropped stream resumes with its last event id', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'clientsse' });
  const proxy = await tcpProxy(node);
  t.after(() => proxy.close());
  const giver = await register(node);
  const taker = await register(node);
  setCoins(giver.user.id, 100);
  const queryClient = recordingQueryClient();
  const { client, log } = recordedClient(t, { url: proxy.url, token: taker.token, transport: 'sse', queryClient });
  client.subscribe('user:me');
  await waitFor(() => log.subscribed.length === 1, { what: 'the stream to open' });

  assert.equal((await sendGift(node, giver.token, taker.user.id, 5)).status, 201);
  await waitFor(() => queryClient.set.length === 1, { what: 'balance.updated' });
  assert.deepEqual(queryClient.set, [[['me', 'balance'], { coins: 5, version: 1 }]]);

  const mark = log.states.length;
  proxy.refuse(true);
  await waitFor(() => stateSince(log, mark, 'waiting'), { what: 'the client to notice the drop' });
  for (const coins of [2, 3]) assert.equal((await sendGift(node, giver.token, taker.user.id, coins)).status, 201);
  proxy.refuse(false);
  await waitFor(() => queryClient.set.length === 3, { what: 'the missed balance updates' });
  assert.deepEqual(queryClient.set.map(([, data]) => data.coins), [5, 7, 10], 'every update once, in order');
  assert.deepEqual(log.recovered, [{ channel: 'user:me', recovered: true }]);
  const events = log.pushes.map((p) => p.event);
  assert.equal(events.filter((e) => e === 'notification.created').length, 3, `a notification per gift: ${events}`);
  assert.ok(log.pushes.every((p) => p.channel === `user:${taker.user.id}`), 'pushed under the canonical name');
});

test('sse: an unknown or logged-out token stops the client (unauthorized, 401), with no retry loop', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'clientsse401' });
  const { client, log } = recordedClient(t, { url: node.url, token: 'not-a-session-token', transport: 'sse' });
  client.subscribe('user:me');
  await waitFor(() => log.states.some((s) => s.state === 'unauthorized'), { what: 'the unauthorized state' });
  assert.equal(log.states.at(-1).state, 'unauthorized', JSON.stringify(log.states));
  assert.equal(log.states.at(-1).code, 401);
  const attempts = log.states.filter((s) => s.state === 'connecting').length;
  assert.equal(attempts, 1, `one attempt, no retry loop: ${JSON.stringify(log.states)}`);
});
