// queries — every read and write the app makes, as TanStack Query hooks,
// under the query keys the node's push hints name (docs/api.md):
// ["books",id], ["books",id,"chapters"], ["comments","chapter",id],
// ["me","balance"], ["me","notifications"], ["channels",channel,"presence"].
// A push then refreshes (invalidate) or replaces (set) exactly these.
// Never: polls, or fetches the user's own data without a session.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { call } from './api';
import { useSession } from './session';
import type { Book, Chapter, ChapterSummary, Collaborator, CoinPackage, Comment, Notification, Page } from './types';

export const keys = {
  bookList: ['books', 'list'] as const,
  book: (id: number) => ['books', id] as const,
  chapters: (bookId: number) => ['books', bookId, 'chapters'] as const,
  chapter: (id: number) => ['chapters', id] as const,
  comments: (chapterId: number) => ['comments', 'chapter', chapterId] as const,
  balance: ['me', 'balance'] as const,
  notifications: ['me', 'notifications'] as const,
  presence: (channel: string) => ['channels', channel, 'presence'] as const,
  packages: ['coin-packages'] as const,
};

export function useBookList() {
  return useInfiniteQuery({
    queryKey: keys.bookList,
    queryFn: ({ pageParam }) => call<Page<Book>>(`/api/books?limit=20${pageParam ? `&after=${pageParam}` : ''}`),
    initialPageParam: 0,
    getNextPageParam: (last) => last.next ?? undefined,
  });
}

export function useBook(id: number) {
  return useQuery({ queryKey: keys.book(id), queryFn: () => call<Book>(`/api/books/${id}`) });
}

export function useChapters(bookId: number | undefined) {
  return useQuery({
    queryKey: keys.chapters(bookId ?? 0),
    queryFn: () => call<{ items: ChapterSummary[] }>(`/api/books/${bookId}/chapters`),
    enabled: bookId !== undefined,
  });
}

export function useChapter(id: number) {
  return useQuery({ queryKey: keys.chapter(id), queryFn: () => call<Chapter>(`/api/chapters/${id}`) });
}

export function useComments(chapterId: number) {
  return useQuery({
    queryKey: keys.comments(chapterId),
    queryFn: () => call<Page<Comment>>(`/api/chapters/${chapterId}/comments?limit=50`),
  });
}

export function usePostComment(chapterId: number) {
  const { session } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: string) =>
      call<Comment>(`/api/chapters/${chapterId}/comments`, { method: 'POST', token: session?.token, body: { body } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.comments(chapterId) }),
  });
}

export function useBalance() {
  const { session } = useSession();
  return useQuery({
    queryKey: keys.balance,
    queryFn: () => call<{ coins: number }>('/api/me/balance', { token: session?.token }),
    enabled: !!session,
  });
}

export function useNotifications() {
  const { session } = useSession();
  return useQuery({
    queryKey: keys.notifications,
    queryFn: () => call<{ items: Notification[]; unread: number }>('/api/me/notifications?limit=20', { token: session?.token }),
    enabled: !!session,
  });
}

export function useMarkRead() {
  const { session } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => call<void>(`/api/me/notifications/${id}/read`, { method: 'POST', token: session?.token }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.notifications }),
  });
}

export function usePresence(channel: string) {
  const { session } = useSession();
  return useQuery({
    queryKey: keys.presence(channel),
    queryFn: () => call<{ channel: string; users: Collaborator[] }>(`/api/channels/${channel}/presence`, { token: session?.token }),
    enabled: !!session,
  });
}

/** A fresh Idempotency-Key (getRandomValues: also on plain http, unlike randomUUID). */
export function idempotencyKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A gift; the caller makes its Idempotency-Key once per click, so a retried request never gives twice. */
export function useSendGift() {
  const { session } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ toUserId, coins, key }: { toUserId: number; coins: number; key: string }) =>
      call<{ balance: number }>('/api/gifts', {
        method: 'POST',
        token: session?.token,
        body: { to_user_id: toUserId, coins },
        headers: { 'Idempotency-Key': key },
      }),
    onSuccess: ({ balance }) => queryClient.setQueryData(keys.balance, { coins: balance }),
  });
}

export function useCoinPackages() {
  return useQuery({ queryKey: keys.packages, queryFn: () => call<{ items: CoinPackage[] }>('/api/coin-packages') });
}

export function useBuyCoins() {
  const { session } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (packageId: number) =>
      call<{ coins: number }>('/api/me/purchases', { method: 'POST', token: session?.token, body: { package_id: packageId } }),
    onSuccess: ({ coins }) => queryClient.setQueryData(keys.balance, { coins }),
  });
}
