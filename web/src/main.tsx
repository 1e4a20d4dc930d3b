// main — starts the app: one QueryClient (reads stay fresh until a push says
// otherwise, so no refetch on focus or reconnect: the live client's resume
// catches up instead), the session, the live connections, the app.
// Never: does anything else at start.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { LiveProvider } from './live';
import { SessionProvider } from './session';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { staleTime: 60_000, refetchOnWindowFocus: false, refetchOnReconnect: false, retry: 1 },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <LiveProvider>
          <App />
        </LiveProvider>
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
