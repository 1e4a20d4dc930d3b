// cache_eviction — the cache stays correct when its Redis evicts keys
// (allkeys-lru may drop any v:, g:, m: or l: key at any moment): a value
// counts only while the group version it was stored under is current, so a
// lost member set or a lost version can never bring back a value a write
// invalidated; and a group's member set stays within cache_group_members_max.
// Eviction is simulated by deleting the keys on the cache's Redis (the real
// scripts run there), which is what eviction does to them.
// Never: reads the database to decide what the node should have answered
// (expected values come from the writes), or sleeps instead of waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  api, cachedValue, membersKey, redisCache, register, startNode, uniquePrefix, valueKey, versionKey,
} from './lib/harness.mjs';
import { newBook } from './lib/platform.mjs';

/** Reads the book until the node has stored it in Redis; returns the stored value. */
async function warmBook(node, id) {
  for (let i = 0; i < 2; i++) {
    const res = await api(node, 'GET', `/api/books/${id}`);
    assert.equal(res.status, 200, res.text);
  }
  const stored = cachedValue(valueKey(node.prefix, 'book', id));
  assert.ok(stored, 'the book is stored in the cache Redis');
  assert.equal(stored.version, redisCache('GET', versionKey(node.prefix, `book:${id}`)),
    'stored under the group version current in Redis');
  return stored;
}

async function retitle(node, token, id, title) {
  const res = await api(node, 'PATCH', `/api/books/${id}`, { token, body: { title } });
  assert.equal(res.status, 200, res.text);
}

test('a value whose member set was evicted is not served after a write', async () => {
  const node = await startNode({ name: 'evictm', env: { SB_REDIS_KEY_PREFIX: uniquePrefix('evictm') } });
  const { token } = await register(node);
  const book = await newBook(node, token, { title: 'Before' });
  const before = await warmBook(node, book.id);
  assert.match(before.body, /"Before"/);
  // Eviction drops the group's member set: the write can no longer find
  // (and delete) the value through it.
  redisCache('DEL', membersKey(node.prefix, `book:${book.id}`));
  await retitle(node, token, book.id, 'After');
  assert.ok(cachedValue(valueKey(node.prefix, 'book', book.id)), 'the old value is still in Redis');
  const res = await api(node, 'GET', `/api/books/${book.id}`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.title, 'After', 'the invalidated value is not served');
  assert.equal(res.cache, 'miss');
});

test('a lost group version never makes an invalidated value match again', async () => {
  const node = await startNode({ name: 'evictg', env: { SB_REDIS_KEY_PREFIX: uniquePrefix('evictg') } });
  const { token } = await register(node);
  const book = await newBook(node, token, { title: 'First' });
  const first = await warmBook(node, book.id);
  // Eviction drops the version and the member set, leaving the value.
  const group = `book:${book.id}`;
  redisCache('DEL', versionKey(node.prefix, group), membersKey(node.prefix, group));
  await retitle(node, token, book.id, 'Second');
  const now = redisCache('GET', versionKey(node.prefix, group));
  assert.ok(now !== '' && now !== first.version, `a new version token (${now}), not a reused one (${first.version})`);
  const res = await api(node, 'GET', `/api/books/${book.id}`);
  assert.equal(res.body.title, 'Second', 'the value stored before the write is not served');
  // A version evicted with no write at all: on a node without its own copy
  // the value is a miss, then a fresh token is in place and the new value is
  // stored under it.
  const second = await warmBook(node, book.id);
  redisCache('DEL', versionKey(node.prefix, group));
  const other = await startNode({ name: 'evictg2', env: { SB_REDIS_KEY_PREFIX: node.prefix } });
  const again = await api(other, 'GET', `/api/books/${book.id}`);
  assert.equal(again.body.title, 'Second');
  assert.equal(again.cache, 'miss', 'a value whose version is unknown is not trusted');
  const third = cachedValue(valueKey(node.prefix, 'book', book.id));
  assert.notEqual(third.version, second.version);
  assert.equal(third.version, redisCache('GET', versionKey(node.prefix, group)));
});

test('a group lists at most cache_group_members_max values, every cache key has a TTL', async () => {
  const node = await startNode({
    name: 'members',
    env: { SB_REDIS_KEY_PREFIX: uniquePrefix('members'), SB_CACHE_GROUP_MEMBERS_MAX: '3' },
  });
  for (let limit = 1; limit <= 8; limit++) {
    const res = await api(node, 'GET', `/api/books?limit=${limit}`);
    assert.equal(res.status, 200, res.text);
  }
  const listed = Number(redisCache('SCARD', membersKey(node.prefix, 'books:list')));
  assert.ok(listed >= 1 && listed <= 3, `the list group's member set holds ${listed} keys`);
  const values = redisCache('--raw', 'KEYS', `${node.prefix}v:books:list:*`).split('\n').filter(Boolean);
  assert.equal(values.length, 8, 'values past the bound are stored all the same');
  // Every key the cache wrote (values, versions, member sets, the serial) expires.
  const keys = redisCache('--raw', 'KEYS', `${node.prefix}*`).split('\n').filter(Boolean);
  assert.ok(keys.length > 8, keys.join(' '));
  for (const key of keys)
    assert.ok(Number(redisCache('PTTL', key)) > 0, `${key} has a TTL`);
  // A write of the group drops what the set lists; the others stop matching.
  const { token } = await register(node);
  await newBook(node, token, { title: `Listed ${Date.now()}` });
  for (let limit = 1; limit <= 8; limit++) {
    const res = await api(node, 'GET', `/api/books?limit=${limit}`);
    assert.equal(res.cache, 'miss', `limit=${limit} after the write`);
  }
});
