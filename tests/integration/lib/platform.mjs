// platform — helpers for the platform API tests (comments, wallet and gifts,
// notifications, follows, presence): error-body checks, coins set and read
// straight in PostgreSQL, books and chapters made through the API (so the
// node publishes what it publishes for them), gifts, notification lists and
// presence reads, and the Redis keys of one user under a cluster's prefix.
// Owns: nothing that outlives a call (no sockets, no processes).
// Never: waits for time, or decides what a node should answer from its own
// Redis layout (key names are found, not assumed; see userRedisKeys).
import assert from 'node:assert/strict';
import { api, redis, sql } from './harness.mjs';

let counter = 0;
/** A short string no other test (or run) uses: for titles, keys, usernames. */
export function stamp() {
  return `${process.pid.toString(36)}${Date.now().toString(36)}${(counter++).toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

/** Whether `s` is an RFC 3339 UTC time string (Z or +00:00) that parses. */
export function isRfc3339Utc(s) {
  return (
    typeof s === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$/.test(s) &&
    !Number.isNaN(Date.parse(s))
  );
}

/** Whether `v` is an id as the contract sends them: a positive integer JSON number. */
export const isId = (v) => Number.isSafeInteger(v) && v > 0;

/**
 * Asserts that `res` (from api()) is an error answer: `status`, body
 * {error:{code, message}} with `code` (when given) and a non-empty message;
 * `field`, when given, must be named in the message. `what` names the call.
 */
export function assertError(res, status, code, what, { field } = {}) {
  const text = `${what}: HTTP ${res.status} ${res.text.slice(0, 500)}`;
  assert.equal(res.status, status, text);
  assert.equal(typeof res.body?.error, 'object', `${text}: the body is {"error":{...}}`);
  if (code !== undefined) assert.equal(res.body.error.code, code, text);
  assert.equal(typeof res.body.error.message, 'string', `${text}: error.message is a string`);
  assert.ok(res.body.error.message.length > 0, `${text}: error.message is empty`);
  if (field !== undefined)
    assert.ok(res.body.error.message.includes(field), `${text}: the message names the field "${field}"`);
}

/** Sets a user's coins straight in PostgreSQL (the wallet row exists from registration). */
export function setCoins(userId, coins) {
  const n = Number(sql(`WITH w AS (UPDATE wallets SET coins = ${Number(coins)} WHERE user_id = ${Number(userId)} RETURNING 1) SELECT count(*) FROM w`));
  if (n !== 1) throw new Error(`user ${userId} has no wallet row to set coins on`);
}

/** A user's coins as PostgreSQL has them (null when there is no wallet row). */
export function coinsOf(userId) {
  const out = sql(`SELECT coins FROM wallets WHERE user_id = ${Number(userId)}`);
  return out === '' ? null : Number(out);
}

/** A coin package {id, coins} from coin_packages (inserts one if the table is empty). */
export function coinPackage() {
  let row = sql('SELECT id, coins FROM coin_packages ORDER BY id LIMIT 1');
  if (row === '') row = sql(`INSERT INTO coin_packages (coins, price_cents, label) VALUES (100, 99, 'Test') RETURNING id, coins`);
  const [id, coins] = row.split('|').map(Number);
  return { id, coins };
}

/** A number no row of `table` has as its id (for 404 tests). */
export function unknownId(table) {
  return Number(sql(`SELECT coalesce(max(id), 0) + 1000000 FROM ${table}`));
}

/** POST /api/books as `token`; returns the 201 book (throws otherwise). */
export async function newBook(node, token, fields = {}) {
  const res = await api(node, 'POST', '/api/books', {
    token,
    body: { title: `Book ${stamp()}`, description: 'A test book', published: true, ...fields },
  });
  if (res.status !== 201) throw new Error(`POST /api/books: HTTP ${res.status} ${res.text}`);
  return res.body;
}

/** POST /api/books/:id/chapters as `token`; returns the 201 chapter (throws otherwise). */
export async function newChapter(node, token, bookId, fields = {}) {
  const res = await api(node, 'POST', `/api/books/${bookId}/chapters`, {
    token,
    body: { title: `Chapter ${stamp()}`, body: 'Once upon a time.', ...fields },
  });
  if (res.status !== 201) throw new Error(`POST /api/books/${bookId}/chapters: HTTP ${res.status} ${res.text}`);
  return res.body;
}

/** POST /api/chapters/:id/comments as `token` with {body}; returns the api() answer. */
export function postComment(node, token, chapterId, body) {
  return api(node, 'POST', `/api/chapters/${chapterId}/comments`, { token, body: { body } });
}

/** POST /api/gifts as `token`; `key` goes as Idempotency-Key. Returns the api() answer. */
export function sendGift(node, token, toUserId, coins, key) {
  return api(node, 'POST', '/api/gifts', {
    token,
    body: { to_user_id: toUserId, coins },
    headers: key === undefined ? {} : { 'Idempotency-Key': key },
  });
}

/** GET /api/me/notifications as `token` (with `query`); throws unless 200; returns the body. */
export async function notificationsOf(node, token, query = '') {
  const res = await api(node, 'GET', `/api/me/notifications${query}`, { token });
  if (res.status !== 200) throw new Error(`GET /api/me/notifications${query}: HTTP ${res.status} ${res.text}`);
  return res.body;
}

/** GET /api/me/balance as `token`; throws unless 200; returns the coins. */
export async function balanceOf(node, token) {
  const res = await api(node, 'GET', '/api/me/balance', { token });
  if (res.status !== 200) throw new Error(`GET /api/me/balance: HTTP ${res.status} ${res.text}`);
  return res.body.coins;
}

/** GET /api/presence/users/:id; throws unless 200; returns the body. */
export async function presenceOf(node, userId) {
  const res = await api(node, 'GET', `/api/presence/users/${userId}`);
  if (res.status !== 200) throw new Error(`GET /api/presence/users/${userId}: HTTP ${res.status} ${res.text}`);
  return res.body;
}

/** GET /api/presence/online; throws unless 200; returns the body. */
export async function onlineUsers(node) {
  const res = await api(node, 'GET', '/api/presence/online');
  if (res.status !== 200) throw new Error(`GET /api/presence/online: HTTP ${res.status} ${res.text}`);
  return res.body;
}

/** GET /api/channels/:channel/presence as `token`; returns the api() answer. */
export function channelPresence(node, token, channel) {
  return api(node, 'GET', `/api/channels/${channel}/presence`, { token });
}

/**
 * The Redis keys under `prefix` whose name (after the prefix) holds `userId`
 * as a whole number (delimited by non-digits), except session tokens
 * (`s:<token>`: deleting them would sign the user out). For tests that make
 * a node lose what Redis knows about a user without assuming key names.
 */
export function userRedisKeys(prefix, userId) {
  const id = String(userId);
  const holds = new RegExp(`(^|[^0-9])${id}([^0-9]|$)`);
  return redis('--raw', 'KEYS', `${prefix}*`)
    .split('\n')
    .filter((k) => k.startsWith(prefix))
    .filter((k) => !k.slice(prefix.length).startsWith('s:'))
    .filter((k) => holds.test(k.slice(prefix.length)));
}
