// transport — what the client asks of a connection kind (WebSocket or SSE)
// and what a connection reports back, plus the URLs both are opened at.
// Never: decides when to reconnect: a transport reports how a connection
// ended (`Retry`) and the client's policy does the rest.
import type { Push } from './types.js';

/**
 * How a connection ended, for the retry policy: `backoff` (a failure: wait
 * longer each time), `now` (the server asked us to come back: 1001 going
 * away, 4008 too slow), `later` (4029 rate limited: wait the longest),
 * `never` (4001 unauthorized: not with this token).
 */
export type Retry = 'backoff' | 'now' | 'later' | 'never';

export interface TransportSink {
  /** The connection is up. */
  opened(): void;
  /** The server has answered on it: the failure count can start over. */
  healthy(): void;
  /** `channel` is delivering; `offset`: the server's current one, `recovered`: a resume's outcome. */
  subscribed(channel: string, result: { offset?: string; recovered?: boolean }): void;
  failed(channel: string | undefined, error: { code: string; message: string }): void;
  push(push: Push): void;
  /** The connection ended (not after disconnect()). */
  closed(retry: Retry, code?: number, reason?: string): void;
}

export interface Transport {
  /** Whether a connection needs at least one channel (SSE: yes). */
  readonly needsChannels: boolean;
  /** Opens a connection to `baseUrl` carrying every current subscription. */
  connect(baseUrl: string): void;
  /** Drops the current connection, if any, without reporting it. */
  disconnect(): void;
  channelAdded(channel: string): void;
  channelRemoved(channel: string): void;
  publish(channel: string, data: unknown): Promise<{ offset: string }>;
}

/** An error answered by the server (or by the client for a request it cannot send). */
export class SwitchboardError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SwitchboardError';
  }
}

/** `baseUrl` with its scheme turned to ws(s) and `path` appended to its path. */
export function endpointUrl(baseUrl: string, path: '/ws' | '/sse', params: Record<string, string | undefined>): string {
  const url = new URL(baseUrl);
  if (path === '/ws') url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = url.pathname.replace(/\/$/, '') + path;
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}
