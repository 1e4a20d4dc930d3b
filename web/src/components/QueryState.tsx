// QueryState — the loading, error and empty states every query shows, from
// TanStack Query's isPending / isError, so each page renders only its data.
// Never: renders children before the data is there.
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';

interface Props<T> {
  query: Pick<UseQueryResult<T>, 'isPending' | 'isError' | 'error' | 'data' | 'refetch'>;
  /** What is loading, for the messages ("comments"). */
  what: string;
  /** Whether the loaded data counts as empty. */
  isEmpty?: (data: T) => boolean;
  children: (data: T) => ReactNode;
}

export function QueryState<T>({ query, what, isEmpty, children }: Props<T>) {
  if (query.isPending)
    return (
      <p className="state loading" data-testid="loading">
        Loading {what}…
      </p>
    );
  if (query.isError)
    return (
      <p className="state error" role="alert">
        Could not load {what}: {query.error?.message}{' '}
        <button type="button" onClick={() => void query.refetch()}>
          Retry
        </button>
      </p>
    );
  const data = query.data as T;
  if (isEmpty?.(data)) return <p className="state empty">No {what} yet.</p>;
  return <>{children(data)}</>;
}
