// session — who is signed in: the token and user, kept in localStorage so a
// reload stays signed in, and the sign-up / sign-in / sign-out calls. A
// change of user clears the query cache (another user's balance and
// notifications must never show).
// Never: keeps the password, or talks to the live connection (live.tsx
// follows the token).
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { call } from './api';
import type { Session } from './types';

const STORAGE_KEY = 'switchboard.session';

interface SessionApi {
  session: Session | null;
  signIn(username: string, password: string): Promise<void>;
  signUp(username: string, password: string, displayName: string): Promise<void>;
  /** Ends the session on the node too, unless it is already gone there (`remote: false`). */
  signOut(options?: { remote?: boolean }): Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

function stored(): Session | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [session, setSession] = useState<Session | null>(stored);

  const replace = useCallback(
    (next: Session | null) => {
      if (next) localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
      else localStorage.removeItem(STORAGE_KEY);
      queryClient.clear();
      setSession(next);
    },
    [queryClient],
  );

  const value = useMemo<SessionApi>(
    () => ({
      session,
      async signIn(username, password) {
        replace(await call<Session>('/api/auth/login', { method: 'POST', body: { username, password } }));
      },
      async signUp(username, password, displayName) {
        const body = { username, password, ...(displayName ? { display_name: displayName } : {}) };
        replace(await call<Session>('/api/auth/register', { method: 'POST', body }));
      },
      async signOut({ remote = true } = {}) {
        if (remote && session) await call('/api/auth/logout', { method: 'POST', token: session.token }).catch(() => undefined);
        replace(null);
      },
    }),
    [session, replace],
  );

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const api = useContext(SessionContext);
  if (!api) throw new Error('useSession outside SessionProvider');
  return api;
}
