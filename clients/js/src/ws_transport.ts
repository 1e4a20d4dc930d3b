// ws_transport — the WebSocket connection kind: subscribe frames (with `since`
// from each channel's last offset) sent on open, replies matched to requests
// by id, pushes handed on, pings when the line is quiet, and close codes
// turned into a retry kind.
// Owns: the current socket and its pending requests (failed when it goes).
// Never: keeps more than one socket, reports a socket's end after it was
// disconnected on purpose, or sends a frame on a socket that is not open.
import type { Subscriptions } from './subscriptions.js';
import { endpointUrl, SwitchboardError, type Retry, type Transport, type TransportSink } from './transport.js';
import type { Push, WebSocketConstructor, WebSocketLike } from './types.js';

const OPEN = 1;

export interface WsConfig {
  WebSocket: WebSocketConstructor;
  token?: string;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

interface Reply {
  id: number;
  ok: boolean;
  channel?: string;
  offset?: string;
  recovered?: boolean;
  error?: { code: string; message: string; retry_after_ms?: number };
}

interface Pending {
  reply(frame: Reply): void;
  drop(): void;
}

/** The retry kind for a close code of a connection that had opened. */
export function retryForClose(code: number): Retry {
  switch (code) {
    case 4001:
      return 'never';
    case 4029:
      return 'later';
    case 1001:
    case 4008:
      return 'now';
    default:
      return 'backoff';
  }
}

export class WsTransport implements Transport {
  readonly needsChannels = false;
  private socket?: WebSocketLike;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private idleTimer?: ReturnType<typeof setTimeout>;
  private deadTimer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly config: WsConfig,
    private readonly subs: Subscriptions,
    private readonly sink: TransportSink,
  ) {}

  connect(baseUrl: string): void {
    this.disconnect();
    const socket = new this.config.WebSocket(endpointUrl(baseUrl, '/ws', { access_token: this.config.token }));
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.sink.opened();
      this.armPing();
      for (const sub of this.subs.all()) this.sendSubscribe(sub.channel);
    };
    socket.onmessage = (event) => this.onFrame(event.data);
    socket.onerror = () => {}; // a close event follows, and says more
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.drop();
      this.sink.closed(opened ? retryForClose(event.code) : 'backoff', event.code, event.reason);
    };
  }

  disconnect(): void {
    const socket = this.socket;
    if (!socket) return;
    this.drop();
    socket.close(1000, 'client disconnect');
  }

  channelAdded(channel: string): void {
    this.sendSubscribe(channel);
  }

  channelRemoved(channel: string): void {
    if (this.isOpen()) this.send({ id: this.nextId++, op: 'unsubscribe', channel });
  }

  publish(channel: string, data: unknown): Promise<{ offset: string }> {
    return new Promise((resolve, reject) => {
      const sent = this.request({ op: 'publish', channel, data }, {
        reply: (frame) =>
          frame.ok
            ? resolve({ offset: String(frame.offset) })
            : reject(new SwitchboardError(frame.error?.code ?? 'error', frame.error?.message ?? 'publish refused', frame.error?.retry_after_ms)),
        drop: () => reject(new SwitchboardError('disconnected', 'the connection closed before the reply')),
      });
      if (!sent) reject(new SwitchboardError('not_connected', 'not connected'));
    });
  }

  private isOpen(): boolean {
    return this.socket !== undefined && this.socket.readyState === OPEN;
  }

  private sendSubscribe(channel: string): void {
    const since = this.subs.get(channel)?.offset;
    this.request(
      { op: 'subscribe', channel, ...(since !== undefined ? { since } : {}) },
      {
        reply: (frame) =>
          frame.ok
            ? this.sink.subscribed(channel, { offset: frame.offset, recovered: frame.recovered })
            : this.sink.failed(channel, { code: frame.error?.code ?? 'error', message: frame.error?.message ?? 'subscribe refused' }),
        drop: () => {},
      },
    );
  }

  /** Sends `frame` with a new id; false when the socket is not open. */
  private request(frame: object, pending: Pending): boolean {
    if (!this.isOpen()) return false;
    const id = this.nextId++;
    this.pending.set(id, pending);
    this.send({ id, ...frame });
    return true;
  }

  private send(frame: object): void {
    this.socket?.send(JSON.stringify(frame));
  }

  private onFrame(data: unknown): void {
    this.armPing();
    let frame: unknown;
    try {
      frame = JSON.parse(String(data));
    } catch {
      return; // not ours to understand; the server sends only JSON
    }
    if (typeof frame !== 'object' || frame === null) return;
    if (typeof (frame as Reply).id === 'number') {
      const reply = frame as Reply;
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) this.sink.healthy();
      pending?.reply(reply);
    } else if ('error' in frame) {
      const { error } = frame as Reply;
      this.sink.failed(undefined, { code: error?.code ?? 'error', message: error?.message ?? '' });
    } else if (typeof (frame as Push).channel === 'string' && typeof (frame as Push).event === 'string') {
      this.sink.push(frame as Push);
    }
  }

  /** After pingIntervalMs without a frame, a ping; without any frame pingTimeoutMs later, the end. */
  private armPing(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.deadTimer);
    this.deadTimer = undefined;
    this.idleTimer = setTimeout(() => {
      this.request({ op: 'ping' }, { reply: () => {}, drop: () => {} });
      this.deadTimer = setTimeout(() => {
        const socket = this.socket;
        this.drop();
        socket?.close(4000, 'ping timeout');
        this.sink.closed('backoff', 4000, 'ping timeout');
      }, this.config.pingTimeoutMs);
    }, this.config.pingIntervalMs);
  }

  /** Forgets the socket: timers stopped, handlers detached, pending requests failed. */
  private drop(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.deadTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) socket.onopen = socket.onmessage = socket.onclose = null;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.drop();
  }
}
