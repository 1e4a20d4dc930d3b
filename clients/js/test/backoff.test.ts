// backoff.test — the retry delays: exponential, capped, jittered into [d/2, d).
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/backoff.js';

const policy = { baseMs: 100, maxMs: 1000 };

describe('backoffDelay', () => {
  it('doubles with each failure, within [d/2, d)', () => {
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, policy, () => 0))).toEqual([50, 100, 200, 400]);
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, policy, () => 0.999999))).toEqual(
      [100, 200, 400, 800].map((d) => expect.closeTo(d, 3)),
    );
  });

  it('never passes the cap, however many failures', () => {
    for (const failures of [4, 10, 60, 5000]) {
      expect(backoffDelay(failures, policy, () => 0.999999)).toBeLessThanOrEqual(1000);
      expect(backoffDelay(failures, policy, () => 0)).toBe(500);
    }
  });

  it('spreads clients out: different random draws give different delays', () => {
    const draws = [0.1, 0.5, 0.9].map((r) => backoffDelay(2, policy, () => r));
    expect(new Set(draws).size).toBe(3);
  });
});
