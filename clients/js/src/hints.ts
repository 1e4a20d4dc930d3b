// hints — applies a push's `hints` to a TanStack QueryClient (invalidate
// listed keys, put `set.data` under `set.key` unless what is cached there is
// a newer version of it), and names the query keys each
// kind of channel's data lives under, for refetching after a failed resume.
// These keys are the server's (docs/api.md): an app must cache its reads
// under them for hints to reach it.
// Never: fetches anything itself, or trusts a hint's shape without checking it.
import type { Hints, QueryClientLike, QueryKey } from './types.js';

const versionOf = (data: unknown): number | undefined => {
  const v = (data as { version?: unknown } | null | undefined)?.version;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};

/**
 * True when `incoming` may replace `cached`: unless both carry a numeric
 * `version` (a balance does: docs/api.md) and the cached one is newer —
 * pushes of two quick changes can arrive in either order, and the older
 * must not overwrite the newer.
 */
export function supersedes(incoming: unknown, cached: unknown): boolean {
  const next = versionOf(incoming);
  const have = versionOf(cached);
  return next === undefined || have === undefined || next >= have;
}

export function applyHints(queryClient: QueryClientLike, hints: Hints): void {
  const set = hints.set;
  if (set && Array.isArray(set.key)) {
    const cached = queryClient.getQueryData?.(set.key);
    if (supersedes(set.data, cached)) queryClient.setQueryData(set.key, set.data);
  }
  if (Array.isArray(hints.invalidate))
    for (const key of hints.invalidate) if (Array.isArray(key)) void queryClient.invalidateQueries({ queryKey: key });
}

/**
 * The query keys holding a channel's data: `comments:chapter:<id>` →
 * ["comments","chapter",id]; `books:<id>` → ["books",id] (the book and its
 * chapters); `user:*` → ["me"] (balance, notifications); `collab:chapter:<id>`
 * → ["channels",channel,"presence"]. Other channels: none.
 */
export function channelQueryKeys(channel: string): QueryKey[] {
  const parts = channel.split(':');
  const id = Number(parts[parts.length - 1]);
  switch (parts[0]) {
    case 'comments':
      return parts.length === 3 ? [['comments', parts[1], id]] : [];
    case 'books':
      return parts.length === 2 ? [['books', id]] : [];
    case 'user':
      return [['me']];
    case 'collab':
      return [['channels', channel, 'presence']];
    default:
      return [];
  }
}
