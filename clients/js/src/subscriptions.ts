// subscriptions — the channels a client holds: for each, who listens, the
// last offset seen (where a resume starts) and whether the server has
// confirmed it. Also maps a push's canonical channel name back to the name
// it was subscribed under (`user:me` is pushed as `user:<id>`).
// Never: talks to a connection; a channel is gone as soon as its last
// listener leaves (a later subscribe starts afresh, without an offset).
import type { PushHandler } from './types.js';

export interface ChannelSubscription {
  readonly channel: string;
  /** Everyone holding the channel; an entry without a handler holds it for hints only. */
  readonly holders: Set<{ handler?: PushHandler }>;
  offset?: string;
  /** Whether the server has confirmed it at least once (a resume is possible). */
  confirmed: boolean;
}

export class Subscriptions {
  private readonly byChannel = new Map<string, ChannelSubscription>();

  /**
   * Adds a holder of `channel`. `added` says whether the channel is new;
   * `remove()` takes the holder away and says whether the channel is now gone.
   */
  add(channel: string, handler?: PushHandler): { added: boolean; remove: () => boolean } {
    let sub = this.byChannel.get(channel);
    const added = !sub;
    if (!sub) this.byChannel.set(channel, (sub = { channel, holders: new Set(), confirmed: false }));
    const holder = { handler };
    sub.holders.add(holder);
    const owner = sub;
    return {
      added,
      remove: () => {
        owner.holders.delete(holder);
        if (owner.holders.size > 0 || this.byChannel.get(channel) !== owner) return false;
        this.byChannel.delete(channel);
        return true;
      },
    };
  }

  get(channel: string): ChannelSubscription | undefined {
    return this.byChannel.get(channel);
  }

  /** The subscription a push on `channel` (a canonical name) belongs to. */
  resolve(channel: string): ChannelSubscription | undefined {
    return this.byChannel.get(channel) ?? (/^user:\d+$/.test(channel) ? this.byChannel.get('user:me') : undefined);
  }

  all(): ChannelSubscription[] {
    return [...this.byChannel.values()];
  }

  get size(): number {
    return this.byChannel.size;
  }
}
