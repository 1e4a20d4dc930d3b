// platform_follows — following books and what a book's writes push: follow
// and unfollow (204, idempotent, 404 unknown book, 401 without token); a new
// chapter pushes chapter.created on books:<id> and notifies every follower
// but the author (new_chapter), in the background — also for 20000
// followers, while the node keeps answering and /stats counts the fan-out;
// PATCH of a book pushes book.updated with the book.
// Never: waits for time or asserts on durations (the large fan-out is waited
// for by its rows, with a deadline).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, register, sql, stats, waitFor } from './lib/harness.mjs';
import { liveCluster, openWs, subscribe, nextFrame, pushOn, request } from './lib/live.mjs';
import { assertError, newBook, newChapter, notificationsOf, stamp, unknownId } from './lib/platform.mjs';

const followPath = (bookId) => `/api/books/${bookId}/follow`;
const follows = (userId, bookId) => Number(sql(`SELECT count(*) FROM follows WHERE user_id = ${userId} AND book_id = ${bookId}`));
const newChapterRows = (chapterId, userId) =>
  Number(
    sql(
      `SELECT count(*) FROM notifications WHERE kind = 'new_chapter' AND (data->>'chapter_id')::bigint = ${Number(chapterId)}` +
        (userId === undefined ? '' : ` AND user_id = ${Number(userId)}`),
    ),
  );

test('follow and unfollow are 204 and idempotent; an unknown book is 404; without a token 401', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'flwbasic' });
  const author = await register(a);
  const book = await newBook(a, author.token);
  const me = await register(b);

  for (const [node, round] of [[a, 'first'], [b, 'second']]) {
    const res = await api(node, 'POST', followPath(book.id), { token: me.token });
    assert.equal(res.status, 204, `${round} follow on ${node.name}: ${res.text}`);
    assert.equal(follows(me.user.id, book.id), 1, `${round} follow: one row`);
  }
  for (const [node, round] of [[b, 'first'], [a, 'second']]) {
    const res = await api(node, 'DELETE', followPath(book.id), { token: me.token });
    assert.equal(res.status, 204, `${round} unfollow on ${node.name}: ${res.text}`);
    assert.equal(follows(me.user.id, book.id), 0, `${round} unfollow: no row`);
  }

  const missing = unknownId('books');
  assertError(await api(a, 'POST', followPath(missing), { token: me.token }), 404, 'not_found', 'follow an unknown book');
  assertError(await api(a, 'DELETE', followPath(missing), { token: me.token }), 404, 'not_found', 'unfollow an unknown book');
  assertError(await api(a, 'POST', followPath(book.id)), 401, 'unauthorized', 'follow without a token');
  assertError(await api(a, 'DELETE', followPath(book.id)), 401, 'unauthorized', 'unfollow without a token');
  assertError(await api(a, 'POST', followPath(book.id), { token: 'bogus' }), 401, 'unauthorized', 'follow with an unknown token');
  assert.equal(follows(me.user.id, book.id), 0);
});

test('a new chapter pushes chapter.created on books:<id> and notifies the followers, not the author or a past follower', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'flwchap' });
  const author = await register(a);
  const book = await newBook(a, author.token);
  const fans = [await register(a), await register(b), await register(b)];
  const [f1, f2, gone] = fans;
  for (const f of fans) assert.equal((await api(b, 'POST', followPath(book.id), { token: f.token })).status, 204);
  assert.equal((await api(a, 'POST', followPath(book.id), { token: author.token })).status, 204, 'the author may follow too');
  assert.equal((await api(a, 'DELETE', followPath(book.id), { token: gone.token })).status, 204);

  const bookChannel = `books:${book.id}`;
  const watcher = await openWs(b); // anonymous: books:<id> is public
  await subscribe(watcher, bookChannel);
  const fanWs = await openWs(b, { token: f1.token });
  await subscribe(fanWs, `user:${f1.user.id}`);

  const chapter = await newChapter(a, author.token, book.id, { title: 'The Return' });
  const push = await nextFrame(watcher, pushOn(bookChannel, 'chapter.created'));
  for (const [k, v] of Object.entries({ id: chapter.id, book_id: book.id, number: chapter.number, title: 'The Return' }))
    assert.equal(push.data?.[k], v, `chapter.created data.${k}: ${JSON.stringify(push.data)}`);

  const note = await nextFrame(fanWs, (f) => pushOn(`user:${f1.user.id}`, 'notification.created')(f) && f.data?.kind === 'new_chapter');
  assert.equal(note.data.data?.book_id, book.id, `notification data: ${JSON.stringify(note.data)}`);
  assert.equal(note.data.data?.chapter_id, chapter.id);
  assert.equal(note.data.read, false);

  for (const f of [f1, f2]) {
    const got = await waitFor(
      async () => (await notificationsOf(b, f.token)).items.find((n) => n.kind === 'new_chapter' && n.data?.chapter_id === chapter.id),
      { what: `follower ${f.user.id}'s new_chapter notification` },
    );
    assert.equal(got.data.book_id, book.id);
  }
  // Both followers' rows are in; the fan-out writes no more for this chapter.
  await waitFor(() => newChapterRows(chapter.id) >= 2, { what: 'two new_chapter rows' });
  assert.equal(newChapterRows(chapter.id), 2, 'exactly the two current followers were notified');
  assert.equal(newChapterRows(chapter.id, gone.user.id), 0, 'the one who unfollowed was not');
  assert.equal(newChapterRows(chapter.id, author.user.id), 0, 'the author was not');
  assert.deepEqual((await notificationsOf(a, gone.token)).items, [], 'the past follower\'s list is empty');
  assert.equal(
    (await notificationsOf(a, author.token)).items.filter((n) => n.kind === 'new_chapter').length,
    0,
    'the author\'s list has no new_chapter',
  );
});

test('PATCH of a book pushes book.updated on books:<id> with the book', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'flwpatch' });
  const author = await register(a);
  const book = await newBook(a, author.token);
  const channel = `books:${book.id}`;
  const ws = await openWs(b);
  await subscribe(ws, channel);

  const res = await api(a, 'PATCH', `/api/books/${book.id}`, { token: author.token, body: { title: 'Renamed' } });
  assert.equal(res.status, 200, `PATCH book: ${res.text}`);
  const push = await nextFrame(ws, pushOn(channel, 'book.updated'));
  assert.deepEqual(push.data, res.body, 'the push data is the book as the PATCH answered it');
  assert.equal(push.data.title, 'Renamed');
});

test('a chapter for 20000 followers is answered 201 and fanned out in the background while both nodes keep serving', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'flwfan' });
  const author = await register(a);
  const book = await newBook(a, author.token);
  const live = await register(b); // one follower through the API, with a live socket
  assert.equal((await api(b, 'POST', followPath(book.id), { token: live.token })).status, 204);
  const liveWs = await openWs(b, { token: live.token });
  await subscribe(liveWs, 'user:me');
  const N = 20000;
  const tag = stamp().replace(/[^a-z0-9]/g, '').slice(-12);
  const inserted = Number(
    sql(
      `WITH u AS (INSERT INTO users (username, password_hash, display_name)
                  SELECT 'fan_' || '${tag}' || '_' || g, 'x', 'Fan' FROM generate_series(1, ${N}) g RETURNING id),
            f AS (INSERT INTO follows (user_id, book_id) SELECT id, ${book.id} FROM u RETURNING 1)
       SELECT count(*) FROM f`,
    ),
  );
  assert.equal(inserted, N, 'the followers are in');

  // The fan-out may run on either node: its /stats figures are summed.
  const sumFanout = async () => {
    const all = await Promise.all([a, b].map(stats));
    const sums = {};
    for (const s of all)
      for (const [k, v] of Object.entries(s.fanout ?? {})) if (typeof v === 'number') sums[k] = (sums[k] ?? 0) + v;
    return sums;
  };
  const fanoutBefore = await sumFanout();

  const chapter = await newChapter(a, author.token, book.id);
  const rowsAtAnswer = newChapterRows(chapter.id);
  t.diagnostic(`new_chapter rows when the 201 arrived: ${rowsAtAnswer} of ${N + 1}`);

  // While the rows come in, both nodes keep serving reads and live frames.
  let servedDuring = 0;
  let pings = 0;
  await waitFor(
    async () => {
      const rows = newChapterRows(chapter.id);
      if (rows >= N + 1) return true;
      const read = await api(a, 'GET', `/api/books/${book.id}/chapters`);
      assert.equal(read.status, 200, `the node serves during the fan-out: ${read.text}`);
      assert.ok(read.body.items.some((c) => c.id === chapter.id), 'the new chapter is listed');
      assert.equal((await request(liveWs, { op: 'ping' })).ok, true, 'live frames are answered during the fan-out');
      pings++;
      if (newChapterRows(chapter.id) < N + 1) servedDuring++;
      return false;
    },
    { ms: 60000, every: 200, what: `${N + 1} new_chapter notification rows` },
  );
  t.diagnostic(`requests answered while the fan-out ran: ${servedDuring} (of ${pings})`);
  assert.equal(newChapterRows(chapter.id), N + 1, 'each follower notified once');
  assert.equal(newChapterRows(chapter.id, author.user.id), 0, 'not the author');

  const note = await nextFrame(
    liveWs,
    (f) => pushOn(`user:${live.user.id}`, 'notification.created')(f) && f.data?.data?.chapter_id === chapter.id,
    30000,
  );
  assert.equal(note.data.kind, 'new_chapter');

  for (const s of await Promise.all([a, b].map(stats)))
    assert.ok(s.fanout && typeof s.fanout === 'object', `/stats of ${s.node_id} has a fanout object: ${Object.keys(s)}`);
  const grown = await waitFor(
    async () => {
      const now = await sumFanout();
      const grew = Object.keys(now).filter((k) => now[k] - (fanoutBefore[k] ?? 0) >= N + 1);
      return grew.length > 0 && { now, grew };
    },
    { what: '/stats fanout to count the notifications sent (a figure that grew by at least one per follower)' },
  );
  t.diagnostic(`fanout before ${JSON.stringify(fanoutBefore)} after ${JSON.stringify(grown.now)}`);
});
