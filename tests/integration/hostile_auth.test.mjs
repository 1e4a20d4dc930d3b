// hostile_auth — the hostile-client suite, auth side (issue 14): one client
// address sends 300 wrong-password logins for one account, 300 wrong logins
// spread over 300 usernames, and 300 registrations, as fast as 8
// connections take them — each one a yescrypt hash if nothing stops it —
// while a bystander on another address times GET /healthz and a cached
// GET /api/books/1. Each test asserts the node's RSS stays within RSS_BOUND
// of its baseline, every bystander request is answered within
// LATENCY_BOUND_MS (hashing has bounded concurrency: a flood cannot take the
// database workers or the io thread), and the attacker is refused, past
// auth_attempts_per_user (10) or auth_attempts_per_ip (30) per
// auth_window_s, with 429 rate_limited and a Retry-After — with the default
// limits, which are what the internet meets.
// Never: sleeps for time; waits for anything but answers, with a deadline;
// uses the attacker's address for anything but the attack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register } from './lib/harness.mjs';
import { hostileNode, underAttack, measured, assertHeld, requestFlood } from './lib/hostile.mjs';

const BYSTANDER_PATHS = ['/healthz', '/api/books/1'];
const CONNECTIONS = 8;
// Attempts counted before their hash is done may let a few more of a burst
// through than the limit, at most one per connection in flight.
const SLACK = CONNECTIONS - 1;
const show = (o) => JSON.stringify(o).slice(0, 1500);
let counter = 0;
const username = (tag) => `h${tag}_${process.pid.toString(36)}_${(counter++).toString(36)}_${Math.random().toString(36).slice(2, 8)}`.slice(0, 32);

/**
 * Sends `requests` from `address` (a client address of their own, so the
 * limits of one test's attacker are not another's) and sorts the answers:
 * {statuses: {status: n}, refused429 (every 429 well formed: rate_limited
 * with a Retry-After of whole seconds > 0), bad429 (the first few that are
 * not), other (the first few answers neither `okStatus` nor 429), failed}.
 */
function authFlood(node, requests, address, okStatus) {
  return async ({ signal }) => {
    const statuses = {};
    const bad429 = [];
    const other = [];
    let refused429 = 0;
    const flood = await requestFlood(node, requests, signal, {
      connections: CONNECTIONS,
      localAddress: address,
      timeoutMs: 10000,
      onAnswer: (r, a) => {
        statuses[a.status] = (statuses[a.status] ?? 0) + 1;
        if (a.status === 429) {
          const retry = a.headers?.['retry-after'];
          if (a.body?.error?.code === 'rate_limited' && /^[1-9]\d*$/.test(retry ?? '')) refused429++;
          else if (bad429.length < 3) bad429.push({ retry, text: a.text?.slice(0, 200) });
        } else if (a.status !== okStatus && other.length < 3) other.push({ status: a.status, text: a.text?.slice(0, 200), error: a.error });
      },
    });
    return { sent: flood.sent, statuses, refused429, bad429, other, failed: flood.failed.slice(0, 3) };
  };
}

const login = (name) => ({ method: 'POST', path: '/api/auth/login', body: { username: name, password: 'wrong-password-1' } });

// The defaults of include/switchboard/config.hpp, named because the harness
// turns the auth limits off for the rest of the suite.
const AUTH_DEFAULTS = { SB_AUTH_ATTEMPTS_PER_IP: '30', SB_AUTH_ATTEMPTS_PER_USER: '10' };

test('300 wrong-password logins for one account from one address: 429 rate_limited with Retry-After past auth_attempts_per_user; the bystander is served', async (t) => {
  const node = await hostileNode(t, AUTH_DEFAULTS, 'hlogin');
  const victim = await register(node); // from the suite's own address, not the attacker's
  const name = victim.user.username;
  const result = await underAttack(
    node,
    authFlood(node, Array.from({ length: 300 }, () => login(name)), '127.0.0.11', 401),
    { bystanderPaths: BYSTANDER_PATHS },
  );
  measured(t, result, 'auth: 300 wrong logins, one account');
  const o = result.attackerOutcome;
  assert.deepEqual([o.other, o.bad429, o.failed], [[], [], []], `only 401 and well-formed 429s: ${show(o)}`);
  assert.ok((o.statuses[401] ?? 0) <= 10 + SLACK, `at most auth_attempts_per_user (10) wrong passwords are checked: ${show(o)}`);
  assert.equal(o.sent, 300, `all 300 were sent in the time: ${show(o)}`);
  assert.ok(o.refused429 >= 300 - 10 - SLACK, `the rest is refused with 429: ${show(o)}`);
  assertHeld(result, 'auth: 300 wrong logins, one account');
});

test('300 wrong logins over 300 usernames from one address: 429 rate_limited past auth_attempts_per_ip; the bystander is served', async (t) => {
  const node = await hostileNode(t, AUTH_DEFAULTS, 'hloginip');
  const result = await underAttack(
    node,
    authFlood(node, Array.from({ length: 300 }, () => login(username('l'))), '127.0.0.12', 401),
    { bystanderPaths: BYSTANDER_PATHS },
  );
  measured(t, result, 'auth: 300 wrong logins, 300 usernames');
  const o = result.attackerOutcome;
  assert.deepEqual([o.other, o.bad429, o.failed], [[], [], []], `only 401 and well-formed 429s: ${show(o)}`);
  assert.ok((o.statuses[401] ?? 0) <= 30 + SLACK, `at most auth_attempts_per_ip (30) logins are checked: ${show(o)}`);
  assert.equal(o.sent, 300, `all 300 were sent in the time: ${show(o)}`);
  assert.ok(o.refused429 >= 300 - 30 - SLACK, `the rest is refused with 429: ${show(o)}`);
  assertHeld(result, 'auth: 300 wrong logins, 300 usernames');
});

test('300 registrations from one address: 429 rate_limited with Retry-After past auth_attempts_per_ip; the bystander is served', async (t) => {
  const node = await hostileNode(t, AUTH_DEFAULTS, 'hregister');
  const requests = Array.from({ length: 300 }, () => {
    const name = username('r');
    return { method: 'POST', path: '/api/auth/register', body: { username: name, password: 'password123', display_name: name } };
  });
  const result = await underAttack(node, authFlood(node, requests, '127.0.0.13', 201), { bystanderPaths: BYSTANDER_PATHS });
  measured(t, result, 'auth: 300 registrations');
  const o = result.attackerOutcome;
  assert.deepEqual([o.other, o.bad429, o.failed], [[], [], []], `only 201 and well-formed 429s: ${show(o)}`);
  assert.ok((o.statuses[201] ?? 0) <= 30 + SLACK, `at most auth_attempts_per_ip (30) accounts are made: ${show(o)}`);
  assert.equal(o.sent, 300, `all 300 were sent in the time: ${show(o)}`);
  assert.ok(o.refused429 >= 300 - 30 - SLACK, `the rest is refused with 429: ${show(o)}`);
  assertHeld(result, 'auth: 300 registrations');
});
