// types — the shapes the client speaks in: pushes and hints as the server
// sends them (docs/protocol.md), the client's options and events, and the
// minimal WebSocket, EventSource, network and QueryClient interfaces it needs
// from its host (a browser, or Node with the `ws` / `eventsource` packages).
// Never: holds behaviour or state, or imports anything at run time.

/** A TanStack-style query key. */
export type QueryKey = readonly unknown[];

/** What a push tells a query cache to do (the push message's `hints`). */
export interface Hints {
  invalidate?: QueryKey[];
  set?: { key: QueryKey; data: unknown };
}

/** A pushed message, as the server sends it on WebSocket and SSE alike. */
export interface Push<Data = unknown> {
  /** The channel's canonical name: a `user:me` subscription gets `user:<id>`. */
  channel: string;
  /** Opaque; compared by the server only. */
  offset: string;
  event: string;
  data: Data;
  hints?: Hints;
}

export type PushHandler = (push: Push) => void;

/** The part of a TanStack `QueryClient` the client uses (no import of it). */
export interface QueryClientLike {
  invalidateQueries(filters: { queryKey: QueryKey }): unknown;
  setQueryData(queryKey: QueryKey, data: unknown): unknown;
  /** When given (TanStack's is), a `set` hint older than the cached data is skipped. */
  getQueryData?(queryKey: QueryKey): unknown;
}

/**
 * idle: nothing subscribed yet (or, over SSE, nothing subscribed any more);
 * connecting / open; waiting: a retry is scheduled (`retryInMs`);
 * offline: the host says it is offline, retried when it is online again;
 * unauthorized: closed with 4001, never retried with the same token;
 * closed: close() was called.
 */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'waiting' | 'offline' | 'unauthorized' | 'closed';

export interface StateEvent {
  state: ConnectionState;
  /** The close code that led here (WebSocket), when there was one. */
  code?: number;
  reason?: string;
  /** For `waiting`: how long until the next attempt. */
  retryInMs?: number;
}

/** A channel is (again) delivering. `recovered` is set on a resume. */
export interface SubscribedEvent {
  channel: string;
  recovered?: boolean;
}

/** A resume that could (`true`) or could not (`false`) deliver what was missed. */
export interface RecoveredEvent {
  channel: string;
  recovered: boolean;
}

/** An error reply from the server, e.g. a refused subscribe. */
export interface ClientErrorEvent {
  channel?: string;
  code: string;
  message: string;
}

export interface ClientEvents {
  state: StateEvent;
  push: Push;
  subscribed: SubscribedEvent;
  recovered: RecoveredEvent;
  error: ClientErrorEvent;
}

/** What the client needs of a WebSocket (the browser's, or the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** What the client needs of an EventSource (the browser's, or the `eventsource` package's). */
export interface EventSourceLike {
  onopen: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  addEventListener(type: string, listener: (event: { data: string; lastEventId: string }) => void): void;
  close(): void;
}
export type EventSourceConstructor = new (url: string) => EventSourceLike;

/** What the SSE transport needs of fetch (the host's): a response's status. */
export type FetchLike = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<{ status: number }>;

/** The host's idea of being online (the browser's navigator.onLine and its events). */
export interface NetworkLike {
  onLine(): boolean;
  /** Calls `listener` on every change; returns the function that stops it. */
  watch(listener: (online: boolean) => void): () => void;
}

export interface BackoffOptions {
  /** The first retry's delay, before jitter (default 500 ms). */
  baseMs?: number;
  /** The largest delay (default 30 s); also the delay after 4029. */
  maxMs?: number;
}

export interface ClientOptions {
  /** The node's base URL (`https://host`), or several: attempts go round them. */
  url: string | string[];
  /** A session token (sent as `access_token`); none: anonymous. */
  token?: string;
  transport?: 'ws' | 'sse';
  /** Gets every push's hints, and invalidations when a resume failed. */
  queryClient?: QueryClientLike;
  backoff?: BackoffOptions;
  /** The query keys a channel's data lives under (default: channelQueryKeys). */
  channelQueries?: (channel: string) => QueryKey[];
  /** Default: globalThis.WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** Default: globalThis.EventSource. */
  EventSource?: EventSourceConstructor;
  /** Asks why an SSE stream was refused (401 stops, a refused resume id is dropped). Default: globalThis.fetch; null: never asked. */
  fetch?: FetchLike | null;
  /** SSE event names to listen to, besides the server's own (see SSE_EVENTS). */
  sseEvents?: string[];
  /** Default: the browser's navigator.onLine and online/offline events; null: none. */
  network?: NetworkLike | null;
  /** WebSocket: a ping after this long without a frame (default 25 s)... */
  pingIntervalMs?: number;
  /** ...and the connection is given up this long after it (default 10 s). */
  pingTimeoutMs?: number;
  /** Jitter's source, in [0, 1) (default Math.random). */
  random?: () => number;
}

export interface Client {
  readonly state: ConnectionState;
  /**
   * Subscribes `handler` (or, without one, just the QueryClient) to `channel`;
   * returns the function that unsubscribes it. A channel stays subscribed while
   * anyone holds it.
   */
  subscribe(channel: string, handler?: PushHandler): () => void;
  /** Publishes on a channel that allows it (WebSocket only); resolves with its offset. */
  publish(channel: string, data: unknown): Promise<{ offset: string }>;
  /** The last offset seen on `channel` (what a resume starts after). */
  offset(channel: string): string | undefined;
  on<K extends keyof ClientEvents>(type: K, listener: (event: ClientEvents[K]) => void): () => void;
  /** Closes the connection for good. */
  close(): void;
}
