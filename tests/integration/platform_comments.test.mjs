// platform_comments — chapter comments through the API: posting (201 and the
// comment's shape, the 1..4000-character rule counted in characters, 400/401/
// 404 that store nothing), listing newest first with limit/before keyset
// pages and `next`, the comment.created push on comments:chapter:<id> (to an
// anonymous subscriber on another node, with its invalidate hint), and the
// comment_on_book notification to the book's author (none for the author's
// own comments).
// Never: waits for time — every wait is for a frame or a condition with a
// deadline; checks that something did NOT happen only behind something that
// must happen after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, register, sql, waitFor } from './lib/harness.mjs';
import { liveCluster, openWs, subscribe, nextFrame, pushOn } from './lib/live.mjs';
import {
  assertError, isId, isRfc3339Utc, newBook, newChapter, postComment, notificationsOf, unknownId,
} from './lib/platform.mjs';

const COMMENT_KEYS = ['author', 'body', 'chapter_id', 'created_at', 'id', 'user_id'];

/** A signed-in author with a published book and one chapter, made through `node`. */
async function authorWithChapter(node) {
  const author = await register(node);
  const book = await newBook(node, author.token);
  const chapter = await newChapter(node, author.token, book.id);
  return { author, book, chapter };
}

function assertComment(c, { chapterId, user, body }, what) {
  const text = `${what}: ${JSON.stringify(c)?.slice(0, 400)}`;
  assert.deepEqual(Object.keys(c ?? {}).sort(), COMMENT_KEYS, `${text}: a comment has exactly ${COMMENT_KEYS}`);
  assert.ok(isId(c.id), `${text}: id is a positive integer`);
  assert.equal(c.chapter_id, chapterId, `${text}: chapter_id`);
  assert.equal(c.user_id, user.id, `${text}: user_id`);
  assert.equal(c.body, body, `${text}: body`);
  assert.ok(isRfc3339Utc(c.created_at), `${text}: created_at is an RFC 3339 UTC time`);
  assert.deepEqual(c.author, { id: user.id, display_name: user.display_name }, `${text}: author`);
}

const commentCount = (chapterId) => Number(sql(`SELECT count(*) FROM comments WHERE chapter_id = ${Number(chapterId)}`));

test('a posted comment answers 201 with the comment and is listed first on every node', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'cmtpost' });
  const { chapter } = await authorWithChapter(a);
  const reader = await register(b);

  const first = await postComment(b, reader.token, chapter.id, 'First!');
  assert.equal(first.status, 201, `POST comment: ${first.text}`);
  assertComment(first.body, { chapterId: chapter.id, user: reader.user, body: 'First!' }, 'the 201 body');
  const second = await postComment(a, reader.token, chapter.id, 'Second, with “quotes” and ✓');
  assert.equal(second.status, 201, second.text);
  assert.ok(second.body.id > first.body.id, 'a later comment has a larger id');

  for (const node of [a, b]) {
    const list = await api(node, 'GET', `/api/chapters/${chapter.id}/comments`);
    assert.equal(list.status, 200, `${node.name} GET comments: ${list.text}`);
    assert.deepEqual(list.body.items, [second.body, first.body], `${node.name}: newest first, each as the POST answered it`);
    assert.equal(list.body.next, null, `${node.name}: fewer items than the limit → next is null`);
  }
});

test('the comment list pages newest first with limit and before; next is the last id only on a full page', async (t) => {
  const [a] = await liveCluster(t, 1, {}, { name: 'cmtpage' });
  const { chapter } = await authorWithChapter(a);
  const reader = await register(a);
  const ids = [];
  for (let i = 1; i <= 5; i++) {
    const res = await postComment(a, reader.token, chapter.id, `comment ${i}`);
    assert.equal(res.status, 201, res.text);
    ids.push(res.body.id);
  }
  const newestFirst = [...ids].reverse();
  const page = async (query) => {
    const res = await api(a, 'GET', `/api/chapters/${chapter.id}/comments${query}`);
    assert.equal(res.status, 200, `GET comments${query}: ${res.text}`);
    return res.body;
  };

  const p1 = await page('?limit=2');
  assert.deepEqual(p1.items.map((c) => c.id), newestFirst.slice(0, 2), 'page 1: the two newest');
  assert.equal(p1.next, newestFirst[1], 'a full page: next is its last id');
  const p2 = await page(`?limit=2&before=${p1.next}`);
  assert.deepEqual(p2.items.map((c) => c.id), newestFirst.slice(2, 4), 'page 2: only ids below before');
  assert.equal(p2.next, newestFirst[3]);
  const p3 = await page(`?limit=2&before=${p2.next}`);
  assert.deepEqual(p3.items.map((c) => c.id), newestFirst.slice(4), 'page 3: the oldest one');
  assert.equal(p3.next, null, 'a short page: next is null');

  const exact = await page('?limit=5');
  assert.deepEqual(exact.items.map((c) => c.id), newestFirst, 'limit=5: all five');
  assert.equal(exact.next, ids[0], 'items.length == limit → next is the last id, even if nothing older exists');
  const empty = await page(`?limit=5&before=${exact.next}`);
  assert.deepEqual(empty, { items: [], next: null }, 'nothing older than the oldest comment');

  const all = await page('');
  assert.deepEqual(all.items.map((c) => c.id), newestFirst, 'no query: default limit 50 covers all five');
  assert.equal(all.next, null);
  const hundred = await page('?limit=100');
  assert.equal(hundred.items.length, 5, 'limit=100 is allowed');
  const before = await page(`?before=${ids[2]}`);
  assert.deepEqual(before.items.map((c) => c.id), [ids[1], ids[0]], 'before alone: only older comments, newest first');
});

test('bad limit or before is 400 naming the field; an unknown chapter is 404', async (t) => {
  const [a] = await liveCluster(t, 1, {}, { name: 'cmtquery' });
  const { chapter } = await authorWithChapter(a);
  for (const limit of ['0', '101', '-1', 'abc', '1.5'])
    assertError(await api(a, 'GET', `/api/chapters/${chapter.id}/comments?limit=${limit}`), 400, 'bad_request', `limit=${limit}`, { field: 'limit' });
  for (const before of ['0', '-5', 'abc', '1.5'])
    assertError(await api(a, 'GET', `/api/chapters/${chapter.id}/comments?before=${before}`), 400, 'bad_request', `before=${before}`, { field: 'before' });

  const missing = unknownId('chapters');
  assertError(await api(a, 'GET', `/api/chapters/${missing}/comments`), 404, 'not_found', 'GET comments of an unknown chapter');
  const reader = await register(a);
  assertError(await postComment(a, reader.token, missing, 'hello?'), 404, 'not_found', 'POST a comment on an unknown chapter');
  assert.equal(commentCount(missing), 0);
});

test('a comment body is 1..4000 characters, counted as characters not bytes; a bad body stores nothing', async (t) => {
  const [a] = await liveCluster(t, 1, {}, { name: 'cmtbody' });
  const { chapter } = await authorWithChapter(a);
  const reader = await register(a);
  const path = `/api/chapters/${chapter.id}/comments`;

  const bad = [
    ['a missing body', {}],
    ['an empty body', { body: '' }],
    ['4001 ASCII characters', { body: 'x'.repeat(4001) }],
    ['4001 two-byte characters', { body: 'é'.repeat(4001) }],
    ['a number', { body: 42 }],
    ['null', { body: null }],
    ['an array', { body: ['hi'] }],
    ['an object', { body: { text: 'hi' } }],
  ];
  for (const [what, payload] of bad)
    assertError(await api(a, 'POST', path, { token: reader.token, body: payload }), 400, 'bad_request', `POST comment with ${what}`, { field: 'body' });
  const notJson = await api(a, 'POST', path, { token: reader.token, headers: { 'Content-Type': 'application/json' } });
  assert.equal(notJson.status, 400, `POST comment without a body: ${notJson.text}`);
  assert.equal(commentCount(chapter.id), 0, 'no refused comment was stored');

  assertError(await api(a, 'POST', path, { body: { body: 'anonymous' } }), 401, 'unauthorized', 'POST comment without a token');
  assertError(await api(a, 'POST', path, { token: 'not-a-token', body: { body: 'x' } }), 401, 'unauthorized', 'POST comment with an unknown token');
  assert.equal(commentCount(chapter.id), 0, 'no unauthorized comment was stored');

  for (const [what, body] of [
    ['1 character', 'k'],
    ['4000 ASCII characters', 'y'.repeat(4000)],
    ['4000 two-byte characters (8000 bytes)', 'é'.repeat(4000)],
    ['4000 four-byte characters (16000 bytes)', '😀'.repeat(4000)],
  ]) {
    const res = await api(a, 'POST', path, { token: reader.token, body: { body } });
    assert.equal(res.status, 201, `POST comment of ${what}: ${res.text.slice(0, 300)}`);
    assert.equal(res.body.body, body, `${what}: stored and answered unchanged`);
  }
  assert.equal(commentCount(chapter.id), 4);
});

test('comment.created reaches an anonymous subscriber on another node with the comment and an invalidate hint', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'cmtpush' });
  const { chapter } = await authorWithChapter(a);
  const reader = await register(a);
  const channel = `comments:chapter:${chapter.id}`;
  const anon = await openWs(b);
  await subscribe(anon, channel);

  const res = await postComment(a, reader.token, chapter.id, 'Pushed to everyone');
  assert.equal(res.status, 201, res.text);
  const push = await nextFrame(anon, pushOn(channel, 'comment.created'));
  assert.equal(typeof push.offset, 'string', `the push has an offset: ${JSON.stringify(push)}`);
  assert.deepEqual(push.data, res.body, 'the push data is the comment as the 201 answered it');
  assert.deepEqual(push.hints, { invalidate: [['comments', 'chapter', chapter.id]] }, 'the hint invalidates the chapter\'s comment list');
  assert.equal(push.id, undefined, 'a push carries no id');
});

test('a comment by someone else notifies the book\'s author; the author\'s own comment does not', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'cmtnotify' });
  const { author, book, chapter } = await authorWithChapter(a);
  const reader = await register(b);
  const authorWs = await openWs(b, { token: author.token });
  const mine = `user:${author.user.id}`;
  await subscribe(authorWs, mine);

  // The author's own comment first, then the reader's: the reader's
  // notification must come, and the author's (had there been one) before it.
  const own = await postComment(a, author.token, chapter.id, 'Author here');
  assert.equal(own.status, 201, own.text);
  const theirs = await postComment(b, reader.token, chapter.id, 'Loved it');
  assert.equal(theirs.status, 201, theirs.text);

  const push = await nextFrame(
    authorWs,
    (f) => pushOn(mine, 'notification.created')(f) && f.data?.kind === 'comment_on_book',
  );
  const n = push.data;
  assert.ok(isId(n.id), `notification id: ${JSON.stringify(n)}`);
  assert.equal(n.read, false);
  assert.ok(isRfc3339Utc(n.created_at), `created_at: ${n.created_at}`);
  for (const [k, v] of Object.entries({ comment_id: theirs.body.id, chapter_id: chapter.id, book_id: book.id, user_id: reader.user.id }))
    assert.equal(n.data?.[k], v, `notification data.${k}: ${JSON.stringify(n.data)}`);
  assert.deepEqual(push.hints, { invalidate: [['me', 'notifications']] }, 'the hint invalidates the notification list');

  const list = await notificationsOf(a, author.token);
  const onBook = list.items.filter((x) => x.kind === 'comment_on_book');
  assert.deepEqual(onBook.map((x) => x.data.comment_id), [theirs.body.id], `only the reader's comment notified: ${JSON.stringify(list)}`);
  assert.equal(list.unread, 1);
  assert.equal(
    Number(sql(`SELECT count(*) FROM notifications WHERE kind = 'comment_on_book' AND (data->>'comment_id')::bigint = ${own.body.id}`)),
    0,
    'no notification row for the author\'s own comment',
  );
  const readerList = await notificationsOf(b, reader.token);
  assert.deepEqual(readerList.items, [], 'the commenter is not notified');
  assert.deepEqual(
    authorWs.frames.filter(pushOn(mine, 'notification.created')).map((f) => f.data.data?.comment_id),
    [theirs.body.id],
    'one notification push, for the reader\'s comment only',
  );
});
