// AuthPage — sign in, or sign up (`mode`), then back to the books. The node's
// error message (wrong password, username taken, a field out of bounds) is
// shown as it comes.
// Never: keeps the password after the request.
import { useState, type FormEvent } from 'react';
import { Link, navigate } from '../router';
import { useSession } from '../session';

export function AuthPage({ mode }: { mode: 'signin' | 'signup' }) {
  const { signIn, signUp } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'signin') await signIn(username, password);
      else await signUp(username, password, displayName);
      navigate('/');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <main className="auth">
      <h1>{mode === 'signin' ? 'Sign in' : 'Sign up'}</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Username
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === 'signin' ? 'current-password' : 'new-password'}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {mode === 'signup' && (
          <label>
            Display name
            <input name="display_name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
          </label>
        )}
        <button type="submit" disabled={busy}>
          {mode === 'signin' ? 'Sign in' : 'Create account'}
        </button>
        {error && (
          <p className="state error" role="alert">
            {error}
          </p>
        )}
      </form>
      {mode === 'signin' ? (
        <p>
          New here? <Link to="/signup">Sign up</Link>
        </p>
      ) : (
        <p>
          Have an account? <Link to="/signin">Sign in</Link>
        </p>
      )}
    </main>
  );
}
