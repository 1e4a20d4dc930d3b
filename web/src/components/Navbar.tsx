// Navbar — the top bar: where to go, the live connection's state, and for a
// signed-in user the coin balance (kept current by balance.updated pushes on
// the SSE stream) and the notification bell with its unread count and list.
// Never: polls the balance or the notifications; pushes refresh them.
import { useState } from 'react';
import { useLiveState } from '../live';
import { useBalance, useMarkRead, useNotifications } from '../queries';
import { Link, navigate } from '../router';
import { useSession } from '../session';
import type { Notification } from '../types';

export function Navbar() {
  const { session, signOut } = useSession();
  return (
    <header className="navbar">
      <Link to="/" className="brand">
        Switchboard Reader
      </Link>
      <nav>
        <Link to="/">Books</Link>
        {session && <Link to="/wallet">Wallet</Link>}
      </nav>
      <LiveBadge />
      {session ? (
        <div className="account">
          <Balance />
          <Bell />
          <span className="who" data-testid="who">
            {session.user.display_name}
          </span>
          <button type="button" onClick={() => void signOut().then(() => navigate('/'))}>
            Sign out
          </button>
        </div>
      ) : (
        <div className="account">
          <Link to="/signin">Sign in</Link>
          <Link to="/signup">Sign up</Link>
        </div>
      )}
    </header>
  );
}

const labels = {
  idle: 'idle',
  connecting: 'connecting…',
  open: 'live',
  waiting: 'reconnecting…',
  offline: 'offline',
  unauthorized: 'signed out',
  closed: 'closed',
};

/** The WebSocket's state while a page holds channels on it, else the SSE stream's (the user's own channel). */
function LiveBadge() {
  const ws = useLiveState('ws');
  const sse = useLiveState('sse');
  const live = ws && ws.state !== 'idle' ? ws : (sse ?? ws);
  const state = live?.state ?? 'idle';
  const retry = live?.retryInMs !== undefined ? ` (retry in ${Math.ceil(live.retryInMs / 1000)} s)` : '';
  return (
    <span className={`live live-${state}`} data-testid="live-state" data-state={state} title="live updates">
      ● {labels[state]}
      {retry}
    </span>
  );
}

function Balance() {
  const balance = useBalance();
  return (
    <Link to="/wallet" className="balance">
      <span data-testid="balance">{balance.isPending ? '…' : balance.isError ? '?' : balance.data.coins}</span> coins
    </Link>
  );
}

function Bell() {
  const notifications = useNotifications();
  const markRead = useMarkRead();
  const [open, setOpen] = useState(false);
  const unread = notifications.data?.unread ?? 0;
  return (
    <div className="bell">
      <button type="button" data-testid="bell" aria-label={`notifications: ${unread} unread`} onClick={() => setOpen(!open)}>
        <BellIcon />
        {unread > 0 && (
          <span className="unread" data-testid="unread">
            {unread}
          </span>
        )}
      </button>
      {open && (
        <div className="dropdown" data-testid="notifications">
          {notifications.isPending ? (
            <p className="state loading">Loading notifications…</p>
          ) : notifications.isError ? (
            <p className="state error">Could not load notifications: {notifications.error.message}</p>
          ) : notifications.data.items.length === 0 ? (
            <p className="state empty">No notifications yet.</p>
          ) : (
            <ul>
              {notifications.data.items.map((n) => (
                <li key={n.id} className={n.read ? 'read' : 'unread-item'}>
                  <span>{describe(n)}</span>
                  {!n.read && (
                    <button type="button" disabled={markRead.isPending} onClick={() => markRead.mutate(n.id)}>
                      Mark read
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

function BellIcon() {
  return (
    <svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true">
      <path
        fill="currentColor"
        d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6v-5a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1z"
      />
    </svg>
  );
}

function describe(n: Notification): string {
  const d = n.data;
  switch (n.kind) {
    case 'gift_received':
      return `${String(d.from_display_name)} sent you ${String(d.coins)} coins`;
    case 'new_chapter':
      return `New chapter ${String(d.number)} of “${String(d.book_title)}”: ${String(d.title)}`;
    case 'comment_on_book':
      return `${String(d.display_name)} commented on your book`;
    default:
      return n.kind;
  }
}
