// idempotent_writes — the contract's "Retries are safe": register, book,
// chapter, comment, purchase and gift take an Idempotency-Key; a repeat by
// the same caller (on any node) gets the first answer again, says
// Idempotent-Replayed: true, changes nothing and pushes nothing; the same key
// with another body is 409; another caller's same key is its own write; the
// same write sent at once many times is made once. And a write answered 503
// never commits afterwards: a node whose database is slower than its
// db_timeout_ms (the test-only SB_FAULT_DB_DELAY_MS) answers 503, and the
// job, when the worker gets to it, is not run — a retry with the key on a
// healthy node makes the write, once.
// Never: waits for time; every wait is for a condition with a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, register, sql, startNode, waitFor } from './lib/harness.mjs';
import { liveCluster, openWs, subscribe, request, pushesOn, isProbe, joined } from './lib/live.mjs';
import { assertError, coinPackage, coinsOf, newBook, newChapter, setCoins, stamp } from './lib/platform.mjs';

const keyed = (key) => ({ 'Idempotency-Key': key });

/** Sends the same request twice (through `first`, then `second`) with `key`; checks the replay. */
async function sendTwice(first, second, method, path, { token, body, key }) {
  const a = await api(first, method, path, { token, body, headers: keyed(key) });
  assert.ok([200, 201].includes(a.status), `${method} ${path}: ${a.status} ${a.text}`);
  assert.equal(a.headers.get('idempotent-replayed'), null, 'a first request is not a replay');
  const b = await api(second, method, path, { token, body, headers: keyed(key) });
  assert.equal(b.status, a.status, `the repeat of ${method} ${path}: ${b.text}`);
  assert.equal(b.headers.get('idempotent-replayed'), 'true', `the repeat of ${method} ${path} says it is a replay`);
  return [a, b];
}

test('each keyed write, repeated on another node, answers the first answer and changes nothing; another body is 409', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'idemwrites' });
  const author = await register(a);
  const reader = await register(a);
  const key = (what) => `${what}-${stamp()}`;

  // register: the same account again (with a session of its own), once.
  const username = `idem_${stamp()}`.slice(0, 32);
  const signup = { username, password: 'password123', display_name: 'Idem Potent' };
  const regKey = key('register');
  const [r1, r2] = await sendTwice(a, b, 'POST', '/api/auth/register', { body: signup, key: regKey });
  assert.deepEqual(r2.body.user, r1.body.user, 'the same account');
  assert.equal(typeof r2.body.token, 'string');
  assert.equal((await api(b, 'GET', '/api/me/balance', { token: r2.body.token })).status, 200, "the replay's token works");
  assert.equal(Number(sql(`SELECT count(*) FROM users WHERE username = '${username}'`)), 1, 'one account');
  assertError(
    await api(a, 'POST', '/api/auth/register', { body: { ...signup, password: 'another-password' }, headers: keyed(regKey) }),
    409, 'conflict', 'the same key with another password',
  );
  assertError(
    await api(b, 'POST', '/api/auth/register', { body: { ...signup, display_name: 'Other' }, headers: keyed(regKey) }),
    409, 'conflict', 'the same key with another display name',
  );

  // book
  const bookBody = { title: `Idempotent ${stamp()}`, description: 'once', published: true };
  const bookKey = key('book');
  const [b1, b2] = await sendTwice(a, b, 'POST', '/api/books', { token: author.token, body: bookBody, key: bookKey });
  assert.equal(b2.text, b1.text, 'the book answer, byte for byte');
  assert.equal(Number(sql(`SELECT count(*) FROM books WHERE title = '${bookBody.title}'`)), 1, 'one book');
  assertError(
    await api(b, 'POST', '/api/books', { token: author.token, body: { ...bookBody, title: 'Another' }, headers: keyed(bookKey) }),
    409, 'conflict', 'the same key for another book',
  );
  // Keys belong to their caller: the reader's same key is a book of its own.
  const theirs = await api(a, 'POST', '/api/books', { token: reader.token, body: bookBody, headers: keyed(bookKey) });
  assert.equal(theirs.status, 201, theirs.text);
  assert.notEqual(theirs.body.id, b1.body.id, "another caller's key is another write");
  assert.equal(theirs.headers.get('idempotent-replayed'), null);

  // chapter: pushes chapter.created once.
  const bookId = b1.body.id;
  const ws = await openWs(b);
  await subscribe(ws, `books:${bookId}`);
  await joined(a, [`books:${bookId}`], (ch) => pushesOn(ws, ch).some(isProbe));
  const chapterBody = { title: 'Once', body: 'Only once.' };
  const [c1, c2] = await sendTwice(a, b, 'POST', `/api/books/${bookId}/chapters`, { token: author.token, body: chapterBody, key: key('chapter') });
  assert.equal(c2.text, c1.text, 'the chapter answer, byte for byte');
  assert.equal(Number(sql(`SELECT count(*) FROM chapters WHERE book_id = ${bookId}`)), 1, 'one chapter');

  // comment: pushes comment.created once, notifies the author once.
  const chapterId = c1.body.id;
  await subscribe(ws, `comments:chapter:${chapterId}`);
  await joined(a, [`comments:chapter:${chapterId}`], (ch) => pushesOn(ws, ch).some(isProbe));
  const commentKey = key('comment');
  const [m1, m2] = await sendTwice(b, a, 'POST', `/api/chapters/${chapterId}/comments`, { token: reader.token, body: { body: 'Just once' }, key: commentKey });
  assert.equal(m2.text, m1.text, 'the comment answer, byte for byte');
  assert.equal(Number(sql(`SELECT count(*) FROM comments WHERE chapter_id = ${chapterId}`)), 1, 'one comment');
  assert.equal(Number(sql(`SELECT count(*) FROM notifications WHERE user_id = ${author.user.id} AND kind = 'comment_on_book'`)), 1, 'one notification');
  assertError(
    await api(a, 'POST', `/api/chapters/${chapterId}/comments`, { token: reader.token, body: { body: 'Another' }, headers: keyed(commentKey) }),
    409, 'conflict', 'the same key for another comment',
  );

  // purchase: coins once.
  const pkg = coinPackage();
  const [p1, p2] = await sendTwice(a, b, 'POST', '/api/me/purchases', { token: reader.token, body: { package_id: pkg.id }, key: key('purchase') });
  assert.deepEqual(p2.body, p1.body, 'the purchase answer');
  assert.equal(coinsOf(reader.user.id), pkg.coins, 'bought once');

  // gift: coins once.
  const [g1, g2] = await sendTwice(b, a, 'POST', '/api/gifts', { token: reader.token, body: { to_user_id: author.user.id, coins: 3 }, key: key('gift') });
  assert.equal(g2.text, g1.text, 'the gift answer, byte for byte (the balance as it was then)');
  assert.equal(coinsOf(reader.user.id), pkg.coins - 3);
  assert.equal(coinsOf(author.user.id), 3);

  // What the subscriber saw: one push per write, none for the replays.
  await request(ws, { op: 'ping' }); // a round trip: what was pushed before it has arrived
  const events = (ch) => pushesOn(ws, ch).filter((p) => !isProbe(p)).map((p) => p.event);
  assert.deepEqual(events(`books:${bookId}`), ['chapter.created']);
  assert.deepEqual(events(`comments:chapter:${chapterId}`), ['comment.created']);
});

test('the same keyed write sent at once, eight times over two nodes, is made once and all answer it', async (t) => {
  const [a, b] = await liveCluster(t, 2, {}, { name: 'idemrace' });
  const author = await register(a);
  const book = await newBook(a, author.token);
  const chapter = await newChapter(a, author.token, book.id);
  const reader = await register(b);
  for (let round = 1; round <= 3; round++) {
    const key = `race-${round}-${stamp()}`;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api(i % 2 ? a : b, 'POST', `/api/chapters/${chapter.id}/comments`, { token: reader.token, body: { body: `race ${round}` }, headers: keyed(key) }),
      ),
    );
    const what = answers.map((r) => `${r.status} ${r.text}`).join(' | ');
    assert.ok(answers.every((r) => r.status === 201), what);
    assert.equal(new Set(answers.map((r) => r.body.id)).size, 1, `one comment id (${what})`);
    assert.equal(answers.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 7, `seven replays (${what})`);
    assert.equal(Number(sql(`SELECT count(*) FROM comments WHERE chapter_id = ${chapter.id} AND body = 'race ${round}'`)), 1, `one row (${what})`);
  }
});

test('a write answered 503 because the database was too slow never commits afterwards; its retry with the key makes it once', async (t) => {
  // db_timeout_ms 300, the database 1500 ms late: the slow node answers 503
  // after 1.3 s, and its worker, when it gets to the job, finds its deadline
  // gone. (Its /readyz says 503 too: the database is too slow for it.)
  const [healthy] = await liveCluster(t, 1, {}, { name: 'idem503' });
  const slow = await startNode({
    name: 'idem503-slow',
    ready: false,
    env: { SB_REDIS_KEY_PREFIX: healthy.prefix, SB_DB_TIMEOUT_MS: '300', SB_FAULT_DB_DELAY_MS: '1500' },
  });
  t.after(() => slow.stop());
  const sender = await register(healthy);
  const recipient = await register(healthy);
  setCoins(sender.user.id, 50);
  const book = await newBook(healthy, sender.token);
  const chapter = await newChapter(healthy, sender.token, book.id);
  const text = `late ${stamp()}`;
  const commentKey = `late-comment-${stamp()}`;
  const giftKey = `late-gift-${stamp()}`;

  const refusedAt = slow.logs.length;
  const [comment, gift] = await Promise.all([
    api(slow, 'POST', `/api/chapters/${chapter.id}/comments`, { token: sender.token, body: { body: text }, headers: keyed(commentKey) }),
    api(slow, 'POST', '/api/gifts', { token: sender.token, body: { to_user_id: recipient.user.id, coins: 20 }, headers: keyed(giftKey) }),
  ]);
  assertError(comment, 503, 'unavailable', 'a comment the database is too slow for');
  assertError(gift, 503, 'unavailable', 'a gift the database is too slow for');
  // Both jobs reach a worker afterwards, and are dropped there.
  await waitFor(() => (slow.logs.slice(refusedAt).match(/not started: its deadline passed/g) ?? []).length >= 2, {
    ms: 20000,
    what: "the slow node's workers to drop both late writes",
  });
  assert.equal(Number(sql(`SELECT count(*) FROM comments WHERE body = '${text}'`)), 0, 'the comment answered 503 was not stored');
  assert.equal(coinsOf(sender.user.id), 50, 'the gift answered 503 moved nothing');
  assert.equal(coinsOf(recipient.user.id), 0);

  // Retried with the same keys, on a healthy node: made once.
  for (let i = 0; i < 2; i++) {
    const c = await api(healthy, 'POST', `/api/chapters/${chapter.id}/comments`, { token: sender.token, body: { body: text }, headers: keyed(commentKey) });
    assert.equal(c.status, 201, c.text);
    const g = await api(healthy, 'POST', '/api/gifts', { token: sender.token, body: { to_user_id: recipient.user.id, coins: 20 }, headers: keyed(giftKey) });
    assert.equal(g.status, 201, g.text);
    assert.equal(g.headers.get('idempotent-replayed'), i === 0 ? null : 'true');
  }
  assert.equal(Number(sql(`SELECT count(*) FROM comments WHERE body = '${text}'`)), 1);
  assert.equal(coinsOf(sender.user.id), 30);
  assert.equal(coinsOf(recipient.user.id), 20);
});

test('Idempotency-Key: malformed is 400 and stores nothing; keys are kept at most 24 h (older ones are swept)', async (t) => {
  const [node] = await liveCluster(t, 1, {}, { name: 'idemkeys' });
  const me = await register(node);
  const before = Number(sql('SELECT count(*) FROM books'));
  for (const bad of ['k'.repeat(201), 'caf\u00e9'])
    assertError(
      await api(node, 'POST', '/api/books', { token: me.token, body: { title: 'x' }, headers: keyed(bad) }),
      400, 'bad_request', `Idempotency-Key ${JSON.stringify(bad.slice(0, 10))}`,
    );
  assert.equal(Number(sql('SELECT count(*) FROM books')), before, 'nothing stored');

  // A key older than the window is free again: the write is made anew.
  const key = `old-${stamp()}`;
  const first = await api(node, 'POST', '/api/books', { token: me.token, body: { title: `Old ${key}` }, headers: keyed(key) });
  assert.equal(first.status, 201, first.text);
  sql(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = '${key}'`);
  const again = await api(node, 'POST', '/api/books', { token: me.token, body: { title: `Old ${key}` }, headers: keyed(key) });
  assert.equal(again.status, 201, again.text);
  assert.equal(again.headers.get('idempotent-replayed'), null, 'not a replay after 24 h');
  assert.notEqual(again.body.id, first.body.id);
  // Expired keys do not pile up: any keyed write sweeps some.
  sql(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = '${key}'`);
  await api(node, 'POST', '/api/books', { token: me.token, body: { title: 'sweeper' }, headers: keyed(`sweep-${stamp()}`) });
  assert.equal(Number(sql(`SELECT count(*) FROM idempotency_keys WHERE key = '${key}'`)), 0, 'the expired key was swept');
});
