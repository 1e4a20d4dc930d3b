// client — createClient: one live connection to a Switchboard node, over
// WebSocket or Server-Sent Events, shared by every subscription of a page.
// Owns the retry policy (exponential backoff with jitter; close codes; the
// host's online/offline events), each channel's holders and last offset,
// and what a push does: its hints go to the QueryClient, then its handlers
// run; a resume that could not deliver what was missed invalidates the
// channel's queries instead.
// Never: retries after 4001 or close(), retries while the host is offline,
// runs a handler after it unsubscribed, or connects with nothing subscribed.
import { backoffDelay, jitter, type Backoff } from './backoff.js';
import { callSafely, Emitter } from './emitter.js';
import { applyHints, channelQueryKeys } from './hints.js';
import { SSE_EVENTS, SseTransport } from './sse_transport.js';
import { Subscriptions } from './subscriptions.js';
import type { Retry, Transport, TransportSink } from './transport.js';
import type {
  Client,
  ClientEvents,
  ClientOptions,
  ConnectionState,
  EventSourceConstructor,
  FetchLike,
  NetworkLike,
  StateEvent,
  WebSocketConstructor,
} from './types.js';
import { WsTransport } from './ws_transport.js';

export function createClient(options: ClientOptions): Client {
  const urls = Array.isArray(options.url) ? options.url : [options.url];
  if (urls.length === 0) throw new Error('createClient: no url');
  const baseMs = options.backoff?.baseMs ?? 500;
  const backoff: Backoff = { baseMs, maxMs: Math.max(baseMs, options.backoff?.maxMs ?? 30_000) };
  const random = options.random ?? Math.random;
  const queryKeysOf = options.channelQueries ?? channelQueryKeys;
  const queryClient = options.queryClient;
  const network = options.network === undefined ? browserNetwork() : options.network;
  const subs = new Subscriptions();
  const events = new Emitter<ClientEvents>();

  let state: ConnectionState = 'idle';
  let failures = 0; // attempts since the last healthy connection
  let nextUrl = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const setState = (next: ConnectionState, details: Omit<StateEvent, 'state'> = {}) => {
    state = next;
    events.emit('state', { state: next, ...details });
  };

  const connect = () => {
    retryTimer = undefined;
    const url = urls[nextUrl];
    nextUrl = (nextUrl + 1) % urls.length;
    setState('connecting');
    transport.connect(url);
  };

  const retry = (kind: Retry, code?: number, reason?: string) => {
    if (kind === 'never') return setState('unauthorized', { code, reason });
    if (network && !network.onLine()) return setState('offline', { code, reason });
    const delay =
      kind === 'now' ? random() * baseMs : kind === 'later' ? jitter(backoff.maxMs, random) : backoffDelay(failures, backoff, random);
    failures++;
    setState('waiting', { code, reason, retryInMs: delay });
    retryTimer = setTimeout(connect, delay);
  };

  const sink: TransportSink = {
    opened: () => setState('open'),
    healthy: () => void (failures = 0),
    subscribed(channel, { offset, recovered }) {
      const sub = subs.get(channel);
      if (!sub) return;
      // A channel delivered before that comes back without a resume may have missed messages.
      const lost = sub.confirmed && recovered !== true;
      if (offset !== undefined && (sub.offset === undefined || lost)) sub.offset = offset;
      sub.confirmed = true;
      if (lost && queryClient) for (const queryKey of queryKeysOf(channel)) void queryClient.invalidateQueries({ queryKey });
      if (recovered !== undefined || lost) events.emit('recovered', { channel, recovered: !lost });
      events.emit('subscribed', { channel, recovered: recovered ?? (lost ? false : undefined) });
    },
    failed: (channel, error) => events.emit('error', { channel, ...error }),
    push(push) {
      const sub = subs.resolve(push.channel);
      if (!sub) return;
      sub.offset = push.offset;
      if (queryClient && push.hints) applyHints(queryClient, push.hints);
      for (const holder of [...sub.holders]) if (holder.handler && sub.holders.has(holder)) callSafely(holder.handler, push);
      events.emit('push', push);
    },
    closed: retry,
  };

  const transport: Transport =
    options.transport === 'sse'
      ? new SseTransport(
          {
            EventSource: options.EventSource ?? hostConstructor<EventSourceConstructor>('EventSource'),
            token: options.token,
            events: [...SSE_EVENTS, ...(options.sseEvents ?? [])],
            fetch: options.fetch === null ? undefined : (options.fetch ?? hostFetch()),
          },
          subs,
          sink,
        )
      : new WsTransport(
          {
            WebSocket: options.WebSocket ?? hostConstructor<WebSocketConstructor>('WebSocket'),
            token: options.token,
            pingIntervalMs: options.pingIntervalMs ?? 25_000,
            pingTimeoutMs: options.pingTimeoutMs ?? 10_000,
          },
          subs,
          sink,
        );

  const stopWatching = network?.watch((online) => {
    if (!online && (state === 'connecting' || state === 'open' || state === 'waiting')) {
      clearTimeout(retryTimer);
      transport.disconnect();
      setState('offline');
    } else if (online && state === 'offline') {
      failures = 0;
      connect();
    }
  });

  return {
    get state() {
      return state;
    },
    subscribe(channel, handler) {
      if (state === 'closed') throw new Error('switchboard client: subscribe after close()');
      const { added, remove } = subs.add(channel, handler);
      if (added) {
        if (state === 'idle') {
          if (network && !network.onLine()) setState('offline');
          else connect();
        } else transport.channelAdded(channel);
      }
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        if (!remove() || state === 'closed') return;
        transport.channelRemoved(channel);
        if (subs.size === 0 && transport.needsChannels) {
          clearTimeout(retryTimer);
          transport.disconnect();
          failures = 0;
          setState('idle');
        }
      };
    },
    publish: (channel, data) => transport.publish(channel, data),
    offset: (channel) => subs.get(channel)?.offset,
    on: (type, listener) => events.on(type, listener),
    close() {
      if (state === 'closed') return;
      clearTimeout(retryTimer);
      stopWatching?.();
      transport.disconnect();
      setState('closed');
    },
  };
}

/** The host's fetch, bound (a detached window.fetch throws "Illegal invocation"); none: undefined. */
function hostFetch(): FetchLike | undefined {
  const f = (globalThis as { fetch?: FetchLike }).fetch;
  return typeof f === 'function' ? (url, init) => f.call(globalThis, url, init) : undefined;
}

/** A constructor the host provides (the browser's WebSocket / EventSource), typed as the client needs it. */
function hostConstructor<T>(name: 'WebSocket' | 'EventSource'): T {
  const found = (globalThis as Record<string, unknown>)[name];
  if (typeof found !== 'function') throw new Error(`switchboard client: no ${name} here; pass options.${name}`);
  return found as T;
}

/** The browser's online/offline state and events; undefined outside a browser. */
function browserNetwork(): NetworkLike | undefined {
  if (typeof window === 'undefined' || typeof navigator === 'undefined' || typeof navigator.onLine !== 'boolean') return undefined;
  return {
    onLine: () => navigator.onLine,
    watch(listener) {
      const online = () => listener(true);
      const offline = () => listener(false);
      window.addEventListener('online', online);
      window.addEventListener('offline', offline);
      return () => {
        window.removeEventListener('online', online);
        window.removeEventListener('offline', offline);
      };
    },
  };
}
