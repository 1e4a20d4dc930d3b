// emitter — a small typed event emitter for the client's events.
// Never: lets one listener's exception keep the others from running (it is
// reported on the console instead), or calls a listener after it was removed.

export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<(event: never) => void>>();

  on<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    const entry = listener as (event: never) => void;
    set.add(entry);
    return () => void set.delete(entry);
  }

  emit<K extends keyof Events>(type: K, event: Events[K]): void {
    for (const listener of [...(this.listeners.get(type) ?? [])])
      if (this.listeners.get(type)?.has(listener)) callSafely(listener as (event: Events[K]) => void, event);
  }
}

/** Calls `fn(arg)`; an exception is logged, not thrown. */
export function callSafely<T>(fn: (arg: T) => void, arg: T): void {
  try {
    fn(arg);
  } catch (error) {
    console.error('switchboard client: a listener threw', error);
  }
}
