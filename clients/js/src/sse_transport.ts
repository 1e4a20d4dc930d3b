// sse_transport — the Server-Sent Events connection kind: one EventSource
// carrying every subscribed channel, reopened when the channel set changes
// (a burst of changes makes one reopen) and resumed after a failure with the
// last event's id (`last_event_id`, what the browser would send as
// Last-Event-ID). The EventSource's own retries are cut short: the client's
// backoff decides when to come back. An EventSource does not say why a stream
// was refused, so a stream that fails before it opened is asked again once
// with fetch, for the status only: 401 stops (state `unauthorized`, as a WS
// 4001 does), 400 after a resume id drops the id and comes back at once
// (the channels are then refetched: the gap is unknown), 429 waits the
// longest; anything else is an ordinary failure. A resumed stream reports its
// channels recovered when it opens; the node's `event: recovered` (sent before
// any other event) then names those it could not recover, and they are
// reported again as not recovered (their queries are invalidated).
// Owns: the current EventSource, the stream's resume id and the channel set
// that id belongs to.
// Never: sends a resume id to a stream of another channel set (the node
// refuses it), or opens a stream without channels.
import type { Subscriptions } from './subscriptions.js';
import { endpointUrl, SwitchboardError, type Transport, type TransportSink } from './transport.js';
import type { EventSourceConstructor, EventSourceLike, FetchLike, Push } from './types.js';

/** The events the node sends: comments, wallet, notifications, books, presence, client publishes. */
export const SSE_EVENTS: readonly string[] = [
  'message',
  'comment.created',
  'balance.updated',
  'notification.created',
  'notification.read',
  'book.updated',
  'chapter.created',
  'presence.join',
  'presence.leave',
];

export interface SseConfig {
  EventSource: EventSourceConstructor;
  token?: string;
  events: readonly string[];
  /** Asks a refused stream's status; none: every refusal is a plain failure. */
  fetch?: FetchLike;
}

export class SseTransport implements Transport {
  readonly needsChannels = true;
  private source?: EventSourceLike;
  private baseUrl?: string;
  private streamChannels?: string;
  private resumeId?: string;
  private reopenTimer?: ReturnType<typeof setTimeout>;
  private attempt = 0; // bumped by connect() and disconnect(): a late probe is ignored

  constructor(
    private readonly config: SseConfig,
    private readonly subs: Subscriptions,
    private readonly sink: TransportSink,
  ) {}

  connect(baseUrl: string): void {
    this.disconnect();
    const attempt = ++this.attempt;
    this.baseUrl = baseUrl;
    const channels = this.subs.all().map((s) => s.channel).sort();
    if (channels.length === 0) return;
    const key = channels.join(',');
    if (key !== this.streamChannels) {
      this.streamChannels = key;
      this.resumeId = undefined;
    }
    const resuming = this.resumeId !== undefined;
    const url = endpointUrl(baseUrl, '/sse', { channels: key, access_token: this.config.token, last_event_id: this.resumeId });
    const source = new this.config.EventSource(url);
    this.source = source;
    let opened = false;
    source.onopen = () => {
      if (this.source !== source) return;
      opened = true;
      this.sink.opened();
      this.sink.healthy();
      for (const channel of channels) this.sink.subscribed(channel, { recovered: resuming ? true : undefined });
    };
    source.onerror = () => {
      if (this.source !== source) return;
      this.dropSource();
      if (opened || !this.config.fetch) return this.sink.closed('backoff');
      void this.refusalStatus(url).then((status) => {
        if (this.attempt !== attempt) return; // reconnected or closed meanwhile
        if (status === 401) return this.sink.closed('never', 401, 'unauthorized');
        if (status === 400 && resuming) {
          this.resumeId = undefined; // refused: once without it
          return this.sink.closed('now', 400, 'resume id refused');
        }
        if (status === 429) return this.sink.closed('later', 429, 'rate limited');
        this.sink.closed('backoff', status);
      });
    };
    source.addEventListener('recovered', (message) => {
      if (this.source !== source) return;
      let report: { channels?: Record<string, boolean> };
      try {
        report = JSON.parse(message.data) as typeof report;
      } catch {
        return;
      }
      if (message.lastEventId) this.resumeId = message.lastEventId;
      for (const [channel, recovered] of Object.entries(report.channels ?? {})) {
        const sub = this.subs.resolve(channel); // the node names user:me by its id
        if (recovered === false && sub) this.sink.subscribed(sub.channel, { recovered: false });
      }
    });
    for (const event of this.config.events)
      source.addEventListener(event, (message) => {
        if (this.source !== source) return;
        let push: Push;
        try {
          push = JSON.parse(message.data) as Push;
        } catch {
          return; // the node sends only JSON
        }
        if (message.lastEventId) this.resumeId = message.lastEventId;
        this.sink.push(push);
      });
  }

  disconnect(): void {
    this.attempt++;
    this.dropSource();
  }

  private dropSource(): void {
    clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    this.source?.close();
    this.source = undefined;
  }

  /** The HTTP status a GET of the stream's URL answers now (undefined: none). */
  private async refusalStatus(url: string): Promise<number | undefined> {
    const controller = new AbortController();
    try {
      const res = await this.config.fetch!(url, { headers: { Accept: 'text/event-stream' }, signal: controller.signal });
      return res.status;
    } catch {
      return undefined;
    } finally {
      controller.abort(); // a stream that opened this time is not kept
    }
  }

  channelAdded(): void {
    this.scheduleReopen();
  }

  channelRemoved(): void {
    this.scheduleReopen();
  }

  publish(): Promise<{ offset: string }> {
    return Promise.reject(new SwitchboardError('unsupported', 'publishing needs the WebSocket transport'));
  }

  /** A stream in use is reopened with the new channel set, once per burst of changes. */
  private scheduleReopen(): void {
    if (!this.source || this.reopenTimer !== undefined) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      if (this.source && this.baseUrl !== undefined) this.connect(this.baseUrl);
    }, 0);
  }
}
