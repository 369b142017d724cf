import { useId, useState, type FormEvent } from 'react';
import type { Auth } from '../api/auth';
import { describeError } from '../state/errors';

/** `notice`: why the user is looking at this screen again (their session was ended elsewhere, …). */
export function AuthScreen({ auth, notice = null }: { auth: Auth; notice?: string | null }) {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'login') await auth.login(username, password);
      else await auth.register(username, password, displayName.trim() || null);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  const register = mode === 'register';
  return (
    <main className="auth">
      <div className="auth-card">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <h1>Chat</h1>
        </div>
        {notice && (
          <p className="auth-notice" role="status" data-testid="signed-out-notice">
            {notice}
          </p>
        )}
        <div className="auth-tabs" role="tablist" aria-label="Account">
          <button type="button" role="tab" aria-selected={!register} className={!register ? 'active' : ''} onClick={() => (setMode('login'), setError(null))}>
            Log in
          </button>
          <button type="button" role="tab" aria-selected={register} className={register ? 'active' : ''} onClick={() => (setMode('register'), setError(null))}>
            Create account
          </button>
        </div>
        <form onSubmit={submit} aria-label={register ? 'Create account' : 'Log in'}>
          <label htmlFor={`${ids}-u`}>Username</label>
          <input
            id={`${ids}-u`}
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            minLength={register ? 3 : undefined}
            maxLength={32}
            pattern={register ? '[A-Za-z0-9_.\\-]+' : undefined}
            title={register ? '3–32 letters, digits, _ . or -' : undefined}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoFocus
          />
          {register && (
            <>
              <label htmlFor={`${ids}-d`}>
                Display name <span className="muted">(optional)</span>
              </label>
              <input id={`${ids}-d`} name="display_name" autoComplete="nickname" maxLength={64} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
            </>
          )}
          <label htmlFor={`${ids}-p`}>Password</label>
          <input
            id={`${ids}-p`}
            name="password"
            type="password"
            autoComplete={register ? 'new-password' : 'current-password'}
            required
            minLength={register ? 8 : undefined}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          {register && <p className="hint">At least 8 characters.</p>}
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="primary wide" disabled={busy}>
            {busy ? 'Please wait…' : register ? 'Create account' : 'Log in'}
          </button>
        </form>
      </div>
    </main>
  );
}

/** While the browser's session is looked for (a reload, a new tab): brief, and instead of a flash of the form. */
export function SigningIn() {
  return (
    <main className="auth">
      <div className="auth-card signing-in" role="status" aria-live="polite" data-testid="signing-in">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <h1>Chat</h1>
        </div>
        <p className="muted">Signing in…</p>
      </div>
    </main>
  );
}
