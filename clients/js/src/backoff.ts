// backoff — how long to wait before the next connection attempt: exponential
// in the number of failures since the last healthy connection, capped, with
// jitter so that the clients of a restarted node do not come back in step.
// Never: returns a negative delay or one above the cap.

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/**
 * The delay before retry number `failures` (0 for the first): the capped
 * exponential delay d = min(maxMs, baseMs * 2^failures), jittered into
 * [d/2, d) ("equal jitter": never a storm of immediate retries).
 */
export function backoffDelay(failures: number, { baseMs, maxMs }: Backoff, random: () => number): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.min(failures, 30));
  return jitter(capped, random);
}

/** `ms` jittered into [ms/2, ms). */
export function jitter(ms: number, random: () => number): number {
  return ms / 2 + (ms / 2) * random();
}
