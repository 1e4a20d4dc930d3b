// live — the page's live connections, made with @switchboard/client and bound
// to the app's QueryClient so every push's hints land in the cache: a
// WebSocket for the channels pages hold (comments, collaborators, books) and,
// while signed in, an SSE stream for the user's own channel (balance,
// notifications). Both follow the session's token; a token the node refuses
// (4001) signs the user out.
// Never: fetches data itself (the hints and TanStack Query do), or keeps a
// connection of a previous user open.
import { createClient, type Client, type StateEvent } from '@switchboard/client';
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useSession } from './session';

interface LiveClients {
  ws: Client | null;
  sse: Client | null;
}

const LiveContext = createContext<LiveClients>({ ws: null, sse: null });

export function LiveProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const { session, signOut } = useSession();
  const token = session?.token;
  const [clients, setClients] = useState<LiveClients>({ ws: null, sse: null });

  useEffect(() => {
    const url = window.location.origin;
    const ws = createClient({ url, token, queryClient });
    const sse = token ? createClient({ url, token, transport: 'sse', queryClient }) : null;
    const releaseUser = sse?.subscribe('user:me');
    const stopWatching = [ws, sse].map((client) =>
      client?.on('state', ({ state }) => {
        if (state === 'unauthorized') void signOut({ remote: false });
      }),
    );
    setClients({ ws, sse });
    return () => {
      for (const stop of stopWatching) stop?.();
      releaseUser?.();
      ws.close();
      sse?.close();
    };
  }, [token, queryClient, signOut]);

  return <LiveContext.Provider value={clients}>{children}</LiveContext.Provider>;
}

/**
 * Holds `channel` (null: none) on the WebSocket while the component is
 * mounted; `subscribed` turns true once the node has confirmed it (pushes
 * from then on reach the cache).
 */
export function useChannel(channel: string | null): { subscribed: boolean } {
  const { ws } = useContext(LiveContext);
  const [subscribed, setSubscribed] = useState(false);
  useEffect(() => {
    setSubscribed(false);
    if (!ws || !channel) return;
    const offSubscribed = ws.on('subscribed', (e) => e.channel === channel && setSubscribed(true));
    const offState = ws.on('state', (s) => s.state !== 'open' && setSubscribed(false));
    const unsubscribe = ws.subscribe(channel);
    return () => {
      offSubscribed();
      offState();
      unsubscribe();
    };
  }, [ws, channel]);
  return { subscribed };
}

/** The latest state of the live connection(s): the WebSocket's, or the SSE stream's when `which` says so. */
export function useLiveState(which: 'ws' | 'sse' = 'ws'): StateEvent | null {
  const client = useContext(LiveContext)[which];
  const [state, setState] = useState<StateEvent | null>(null);
  useEffect(() => {
    setState(client ? { state: client.state } : null);
    return client?.on('state', setState);
  }, [client]);
  return state;
}
