// ws_client.test — createClient over a fake WebSocket: subscribe frames and
// offsets, pushes to handlers and to a real QueryClient, reconnects with
// backoff and jitter and resume with `since`, close codes, recovered:false,
// the host going offline, pings, publish and unsubscribe.
import { QueryClient } from '@tanstack/query-core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client.js';
import type { ClientOptions, StateEvent } from '../src/types.js';
import { FakeNetwork, FakeWebSocket } from './fakes.js';

const push = (channel: string, offset: string, extra: object = {}) => ({ channel, offset, event: 'comment.created', data: { offset }, ...extra });

function setup(extra: Partial<ClientOptions> = {}) {
  const queryClient = new QueryClient();
  const network = new FakeNetwork();
  const client = createClient({
    url: 'http://node.test:8080',
    token: 'tok',
    WebSocket: FakeWebSocket,
    queryClient,
    network,
    backoff: { baseMs: 100, maxMs: 1000 },
    random: () => 0, // delays at the bottom of their jitter range: [d/2, d)
    ...extra,
  });
  const states: StateEvent[] = [];
  client.on('state', (s) => states.push(s));
  return { client, queryClient, network, states };
}

beforeEach(() => {
  FakeWebSocket.instances = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('ws client: subscribing', () => {
  it('connects on the first subscribe, with the token, and subscribes on open', () => {
    const { client } = setup();
    expect(FakeWebSocket.instances).toHaveLength(0);
    client.subscribe('comments:chapter:7');
    const ws = FakeWebSocket.last;
    expect(ws.url).toBe('ws://node.test:8080/ws?access_token=tok');
    ws.open();
    expect(ws.ops('subscribe')).toEqual([{ id: expect.any(Number), op: 'subscribe', channel: 'comments:chapter:7' }]);
    expect(client.state).toBe('open');
  });

  it('records the offset from the reply and from each push, and runs the handlers', () => {
    const { client } = setup();
    const seen: string[] = [];
    client.subscribe('comments:chapter:7', (p) => seen.push(p.offset));
    const ws = FakeWebSocket.last;
    ws.open();
    ws.confirm('comments:chapter:7', { offset: '10' });
    expect(client.offset('comments:chapter:7')).toBe('10');
    ws.receive(push('comments:chapter:7', '11'));
    ws.receive(push('comments:chapter:7', '12'));
    expect(seen).toEqual(['11', '12']);
    expect(client.offset('comments:chapter:7')).toBe('12');
  });

  it("applies a push's hints to the QueryClient", () => {
    const { client, queryClient } = setup();
    queryClient.setQueryData(['comments', 'chapter', 7], { items: [] });
    client.subscribe('comments:chapter:7');
    client.subscribe('user:me');
    const ws = FakeWebSocket.last;
    ws.open();
    ws.confirm('comments:chapter:7', { offset: '1' });
    ws.receive(push('comments:chapter:7', '2', { hints: { invalidate: [['comments', 'chapter', 7]] } }));
    expect(queryClient.getQueryState(['comments', 'chapter', 7])?.isInvalidated).toBe(true);
    ws.receive({ channel: 'user:42', offset: '5', event: 'balance.updated', data: { coins: 9 }, hints: { set: { key: ['me', 'balance'], data: { coins: 9 } } } });
    expect(queryClient.getQueryData(['me', 'balance'])).toEqual({ coins: 9 });
  });

  it('delivers pushes of user:<id> to a user:me subscription and resumes it from their offset', () => {
    const { client } = setup();
    const events: string[] = [];
    client.subscribe('user:me', (p) => events.push(p.event));
    let ws = FakeWebSocket.last;
    ws.open();
    ws.confirm('user:me', { channel: 'user:42', offset: '3' });
    ws.receive({ channel: 'user:42', offset: '4', event: 'notification.created', data: {} });
    expect(events).toEqual(['notification.created']);
    ws.serverClose(1006);
    vi.runOnlyPendingTimers();
    ws = FakeWebSocket.last;
    ws.open();
    expect(ws.ops('subscribe')).toEqual([{ id: expect.any(Number), op: 'subscribe', channel: 'user:me', since: '4' }]);
  });

  it('shares a channel between holders: unsubscribed only when the last one leaves', () => {
    const { client } = setup();
    const a: string[] = [];
    const b: string[] = [];
    const offA = client.subscribe('books:1', (p) => a.push(p.offset));
    const offB = client.subscribe('books:1', (p) => b.push(p.offset));
    const ws = FakeWebSocket.last;
    ws.open();
    expect(ws.ops('subscribe')).toHaveLength(1);
    ws.confirm('books:1', { offset: '1' });
    offA();
    offA(); // twice is once
    expect(ws.ops('unsubscribe')).toHaveLength(0);
    ws.receive(push('books:1', '2'));
    offB();
    expect(ws.ops('unsubscribe')).toEqual([{ id: expect.any(Number), op: 'unsubscribe', channel: 'books:1' }]);
    ws.receive(push('books:1', '3'));
    expect(a).toEqual([]);
    expect(b).toEqual(['2']);
  });

  it('keeps running the other handlers when one throws', () => {
    const { client } = setup();
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const seen: string[] = [];
    client.subscribe('books:1', () => {
      throw new Error('boom');
    });
    client.subscribe('books:1', (p) => seen.push(p.offset));
    const ws = FakeWebSocket.last;
    ws.open();
    ws.confirm('books:1', { offset: '1' });
    ws.receive(push('books:1', '2'));
    expect(seen).toEqual(['2']);
    expect(error).toHaveBeenCalledOnce();
  });

  it('reports a refused subscribe as an error event', () => {
    const { client } = setup();
    const errors: unknown[] = [];
    client.on('error', (e) => errors.push(e));
    client.subscribe('collab:chapter:1');
    const ws = FakeWebSocket.last;
    ws.open();
    const [frame] = ws.ops('subscribe');
    ws.receive({ id: frame.id, ok: false, error: { code: 'forbidden', message: 'sign in' } });
    expect(errors).toEqual([{ channel: 'collab:chapter:1', code: 'forbidden', message: 'sign in' }]);
  });
});

describe('ws client: reconnecting', () => {
  it('backs off exponentially with jitter while attempts fail, and starts over after a healthy connection', () => {
    const { client, states } = setup();
    client.subscribe('books:1');
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      FakeWebSocket.last.fail();
      delays.push(states.at(-1)!.retryInMs!);
      expect(states.at(-1)!.state).toBe('waiting');
      const before = FakeWebSocket.instances.length;
      vi.advanceTimersByTime(delays.at(-1)! - 1);
      expect(FakeWebSocket.instances).toHaveLength(before); // not a moment early
      vi.advanceTimersByTime(1);
      expect(FakeWebSocket.instances).toHaveLength(before + 1);
    }
    // base 100, doubling, capped at 1000; random() = 0 gives the bottom of [d/2, d).
    expect(delays).toEqual([50, 100, 200, 400, 500, 500]);
    const ws = FakeWebSocket.last;
    ws.open();
    ws.confirm('books:1', { offset: '1' });
    ws.serverClose(1006);
    expect(states.at(-1)!.retryInMs).toBe(50);
  });

  it('jitters each delay by the random source', () => {
    const { client, states } = setup({ random: () => 0.5 });
    client.subscribe('books:1');
    FakeWebSocket.last.fail();
    expect(states.at(-1)!.retryInMs).toBe(75);
  });

  it('resumes every channel from its last offset, without repeating what it had', () => {
    const { client } = setup();
    const seen: string[] = [];
    client.subscribe('comments:chapter:7', (p) => seen.push(p.offset));
    client.subscribe('books:3');
    let ws = FakeWebSocket.last;
    ws.open();
    ws.confirm('comments:chapter:7', { offset: '10' });
    ws.confirm('books:3', { offset: '0' });
    ws.receive(push('comments:chapter:7', '11'));
    ws.serverClose(1006);
    vi.runOnlyPendingTimers();
    ws = FakeWebSocket.last;
    ws.open();
    const since = Object.fromEntries(ws.ops('subscribe').map((f) => [f.channel, f.since]));
    expect(since).toEqual({ 'comments:chapter:7': '11', 'books:3': '0' });
    ws.confirm('comments:chapter:7', { offset: '13', recovered: true });
    ws.receive(push('comments:chapter:7', '12')); // missed while away, then live
    ws.receive(push('comments:chapter:7', '13'));
    expect(seen).toEqual(['11', '12', '13']);
    expect(client.offset('comments:chapter:7')).toBe('13');
  });

  it('on recovered:false invalidates the channel\'s queries and starts from the current offset', () => {
    const { client, queryClient } = setup();
    const recovered: unknown[] = [];
    client.on('recovered', (e) => recovered.push(e));
    queryClient.setQueryData(['comments', 'chapter', 7], { items: [] });
    queryClient.setQueryData(['books', 3], { id: 3 });
    client.subscribe('comments:chapter:7');
    client.subscribe('books:3');
    let ws = FakeWebSocket.last;
    ws.open();
    ws.confirm('comments:chapter:7', { offset: '10' });
    ws.confirm('books:3', { offset: '4' });
    ws.serverClose(1006);
    vi.runOnlyPendingTimers();
    ws = FakeWebSocket.last;
    ws.open();
    ws.confirm('comments:chapter:7', { offset: '5000', recovered: false });
    ws.confirm('books:3', { offset: '4', recovered: true });
    expect(queryClient.getQueryState(['comments', 'chapter', 7])?.isInvalidated).toBe(true);
    expect(queryClient.getQueryState(['books', 3])?.isInvalidated).toBe(false);
    expect(recovered).toEqual([
      { channel: 'comments:chapter:7', recovered: false },
      { channel: 'books:3', recovered: true },
    ]);
    expect(client.offset('comments:chapter:7')).toBe('5000');
  });

  it('never retries after 4001 (unauthorized)', () => {
    const { client, states } = setup();
    client.subscribe('user:me');
    const ws = FakeWebSocket.last;
    ws.open();
    ws.serverClose(4001, 'unauthorized');
    expect(states.at(-1)).toEqual({ state: 'unauthorized', code: 4001, reason: 'unauthorized' });
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('comes back at once after 1001 (going away), to the next node', () => {
    const { client, states } = setup({ url: ['http://a.test', 'http://b.test'] });
    client.subscribe('books:1');
    expect(FakeWebSocket.last.url).toBe('ws://a.test/ws?access_token=tok');
    FakeWebSocket.last.open();
    FakeWebSocket.last.confirm('books:1', { offset: '1' });
    FakeWebSocket.last.serverClose(1001, 'going away');
    expect(states.at(-1)!.retryInMs).toBeLessThan(100); // within the base delay, not backed off
    vi.runOnlyPendingTimers();
    expect(FakeWebSocket.last.url).toBe('ws://b.test/ws?access_token=tok');
    FakeWebSocket.last.open();
    expect(FakeWebSocket.last.ops('subscribe')[0].since).toBe('1');
  });

  it('waits the longest after 4029 (rate limited)', () => {
    const { client, states } = setup();
    client.subscribe('books:1');
    FakeWebSocket.last.open();
    FakeWebSocket.last.serverClose(4029);
    expect(states.at(-1)!.retryInMs).toBe(500); // maxMs jittered into [max/2, max)
  });

  it('stays away while the host is offline and comes back, resuming, when it is online', () => {
    const { client, network, states } = setup();
    client.subscribe('comments:chapter:7');
    let ws = FakeWebSocket.last;
    ws.open();
    ws.confirm('comments:chapter:7', { offset: '10' });
    network.set(false);
    expect(ws.closedWith?.code).toBe(1000);
    expect(client.state).toBe('offline');
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    network.set(true);
    expect(states.map((s) => s.state).slice(-2)).toEqual(['offline', 'connecting']);
    ws = FakeWebSocket.last;
    ws.open();
    expect(ws.ops('subscribe')[0].since).toBe('10');
  });

  it('pings a quiet connection and gives it up when nothing comes back', () => {
    const { client, states } = setup({ pingIntervalMs: 1000, pingTimeoutMs: 500 });
    client.subscribe('books:1');
    const ws = FakeWebSocket.last;
    ws.open();
    ws.confirm('books:1', { offset: '1' });
    vi.advanceTimersByTime(1000);
    const [ping] = ws.ops('ping');
    expect(ping).toBeDefined();
    ws.receive({ id: ping.id, ok: true }); // alive
    vi.advanceTimersByTime(1000);
    expect(ws.ops('ping')).toHaveLength(2);
    vi.advanceTimersByTime(500); // no answer
    expect(ws.closedWith?.code).toBe(4000);
    expect(states.at(-1)!.state).toBe('waiting');
    vi.runOnlyPendingTimers();
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it('close() ends it for good', () => {
    const { client } = setup();
    client.subscribe('books:1');
    const ws = FakeWebSocket.last;
    ws.open();
    client.close();
    expect(ws.closedWith?.code).toBe(1000);
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(client.state).toBe('closed');
    expect(() => client.subscribe('books:2')).toThrow(/after close/);
  });
});

describe('ws client: publish', () => {
  it('resolves with the offset, rejects with the server\'s error code, and fails when not connected', async () => {
    const { client } = setup();
    await expect(client.publish('collab:chapter:1', {})).rejects.toMatchObject({ code: 'not_connected' });
    client.subscribe('collab:chapter:1');
    const ws = FakeWebSocket.last;
    ws.open();
    const ok = client.publish('collab:chapter:1', { cursor: 3 });
    const sent = ws.ops('publish')[0];
    expect(sent).toMatchObject({ channel: 'collab:chapter:1', data: { cursor: 3 } });
    ws.receive({ id: sent.id, ok: true, channel: 'collab:chapter:1', offset: '77' });
    await expect(ok).resolves.toEqual({ offset: '77' });
    const limited = client.publish('collab:chapter:1', {});
    ws.receive({ id: ws.ops('publish')[1].id, ok: false, error: { code: 'rate_limited', message: 'slow down', retry_after_ms: 90 } });
    await expect(limited).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 90 });
    const lost = client.publish('collab:chapter:1', {});
    ws.serverClose(1006);
    await expect(lost).rejects.toMatchObject({ code: 'disconnected' });
  });
});
