// fakes — stand-ins for the host's WebSocket, EventSource and network, that
// record what the client does and let a test play the server's part.
// Never: answers anything by itself: every reply, push and close is the
// test's explicit move.
import type { EventSourceLike, NetworkLike, WebSocketLike } from '../src/types.js';

export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = [];
  static get last(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1);
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }

  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  /** Every frame the client sent, parsed. */
  readonly sent: Record<string, unknown>[] = [];
  closedWith?: { code?: number; reason?: string };

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data));
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  // The server's moves:
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The frames sent with `op`. */
  ops(op: string): Record<string, unknown>[] {
    return this.sent.filter((f) => f.op === op);
  }

  /** Answers the last subscribe of `channel` with ok and `extra`. */
  confirm(channel: string, extra: object = {}): void {
    const frame = this.ops('subscribe').findLast((f) => f.channel === channel);
    if (!frame) throw new Error(`no subscribe of ${channel}`);
    this.receive({ id: frame.id, ok: true, channel, ...extra });
  }

  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** A connection that never opened (refused, unreachable). */
  fail(): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code: 1006, reason: '' });
  }
}

type Listener = (event: { data: string; lastEventId: string }) => void;

export class FakeEventSource implements EventSourceLike {
  static instances: FakeEventSource[] = [];
  static get last(): FakeEventSource {
    const source = FakeEventSource.instances.at(-1);
    if (!source) throw new Error('no EventSource was opened');
    return source;
  }

  onopen: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  closed = false;
  private readonly listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
  }

  get params(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  // The server's moves:
  open(): void {
    this.onopen?.({});
  }

  emit(event: string, id: string, push: object): void {
    for (const listener of this.listeners.get(event) ?? []) listener({ data: JSON.stringify(push), lastEventId: id });
  }

  error(): void {
    this.onerror?.({});
  }
}

export class FakeNetwork implements NetworkLike {
  online = true;
  private listeners = new Set<(online: boolean) => void>();

  onLine(): boolean {
    return this.online;
  }

  watch(listener: (online: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(online: boolean): void {
    this.online = online;
    for (const listener of this.listeners) listener(online);
  }
}
