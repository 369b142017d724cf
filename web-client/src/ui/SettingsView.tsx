import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { ApiError } from '../api/auth';
import type { SessionInfo } from '../api/types';
import {
  dateTime,
  deviceLabel,
  hasErrors,
  lastActive,
  otherSessions,
  passwordChangeErrors,
  sortSessions,
  validatePasswordForm,
  type PasswordErrors,
  type PasswordForm,
} from '../logic/account';
import type { ChatController } from '../state/controller';
import { describeError } from '../state/errors';
import type { ChatState } from '../state/store';
import { ApiTokensSection } from './ApiTokensSection';
import { Avatar } from './Avatar';
import { ConfirmDialog } from './dialogs/ConfirmDialog';

/** The account screen, in the main pane: sessions, password, API tokens, blocked people, log out. */
export function SettingsView({ controller, state, onBack }: { controller: ChatController; state: ChatState; onBack: () => void }) {
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [sessionsError, setSessionsError] = useState<string | null>(null);

  const reloadSessions = useCallback(async () => {
    try {
      setSessions(sortSessions(await controller.listSessions()));
      setSessionsError(null);
    } catch (e) {
      setSessionsError(describeError(e));
    }
  }, [controller]);

  // Sessions come and go on other devices: look again whenever the user comes back to this tab.
  useEffect(() => {
    void reloadSessions();
    const onVisible = () => document.visibilityState === 'visible' && void reloadSessions();
    window.addEventListener('focus', onVisible);
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.removeEventListener('focus', onVisible);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [reloadSessions]);

  return (
    <section className="settings" aria-labelledby="settings-title">
      <header className="chat-head">
        <button type="button" className="ghost back" onClick={onBack} aria-label="Back to conversations">
          ←
        </button>
        <h2 className="chat-title" id="settings-title">
          Settings
        </h2>
      </header>
      <div className="settings-body">
        <SessionsSection controller={controller} sessions={sessions} error={sessionsError} reload={reloadSessions} />
        <PasswordSection controller={controller} onChanged={reloadSessions} />
        <ApiTokensSection controller={controller} />
        <BlockedSection controller={controller} state={state} />
        <AccountSection controller={controller} state={state} />
      </div>
    </section>
  );
}

function SessionsSection({
  controller,
  sessions,
  error,
  reload,
}: {
  controller: ChatController;
  sessions: SessionInfo[] | null;
  error: string | null;
  reload: () => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [askEverywhere, setAskEverywhere] = useState(false);
  const others = sessions ? otherSessions(sessions) : [];

  async function act(what: () => Promise<void>, done: string) {
    setBusy(true);
    setActionError(null);
    setStatus(null);
    try {
      await what();
      setStatus(done);
    } catch (e) {
      setActionError(describeError(e));
    } finally {
      await reload();
      setBusy(false);
    }
  }

  function refresh() {
    setStatus(null);
    setActionError(null);
    void reload();
  }

  return (
    <section className="settings-card" aria-labelledby="sessions-title">
      <div className="settings-heading-row">
        <h3 className="settings-heading" id="sessions-title">
          Sessions
        </h3>
        <button type="button" className="link small-text" disabled={busy} onClick={refresh} aria-label="Refresh the session list">
          Refresh
        </button>
      </div>
      <p className="muted small-text">Where your account is signed in. Signing a session out ends it at once, on that device too.</p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {sessions === null && !error && <p className="muted">Loading sessions…</p>}
      {sessions && (
        <ul className="sessions" data-testid="sessions">
          {sessions.map((s) => {
            const label = deviceLabel(s.device);
            return (
              <li key={s.id} className="session-row" data-testid="session-row" data-current={s.current ? 'true' : 'false'}>
                <span className="session-text">
                  <span className="session-name">
                    <strong title={s.device ?? undefined}>{label}</strong>
                    {s.current && <span className="this-device">This device</span>}
                  </span>
                  <span className="muted small-text">
                    Signed in {dateTime(s.created_at)} · last active {s.current ? 'now' : lastActive(s.last_used_at)}
                  </span>
                </span>
                {!s.current && (
                  <button
                    type="button"
                    className="small ghost danger"
                    disabled={busy}
                    onClick={() => void act(() => controller.endSession(s.id), `${label} was signed out.`)}
                    aria-label={`Sign out ${label}, signed in ${dateTime(s.created_at)}`}
                  >
                    Sign out
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {actionError && (
        <p className="form-error" role="alert">
          {actionError}
        </p>
      )}
      {status && !actionError && (
        <p className="muted small-text settings-status" role="status">
          {status}
        </p>
      )}
      <div className="settings-actions">
        <button
          type="button"
          disabled={busy || others.length === 0}
          onClick={() => void act(() => controller.endSessions(others), others.length === 1 ? 'The other session was signed out.' : `${others.length} other sessions were signed out.`)}
        >
          Sign out all other sessions
        </button>
        <button type="button" className="ghost danger" disabled={busy} onClick={() => setAskEverywhere(true)} aria-haspopup="dialog">
          Sign out everywhere
        </button>
      </div>
      {askEverywhere && (
        <ConfirmDialog title="Sign out everywhere?" confirmLabel="Sign out everywhere" danger onConfirm={() => controller.logoutEverywhere()} onClose={() => setAskEverywhere(false)}>
          <p>Every session of your account ends, this one included. You will have to sign in again on each device.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

const EMPTY_FORM: PasswordForm = { current: '', next: '', confirm: '' };

function PasswordSection({ controller, onChanged }: { controller: ChatController; onChanged: () => Promise<void> }) {
  const [form, setForm] = useState<PasswordForm>(EMPTY_FORM);
  const [errors, setErrors] = useState<PasswordErrors>({});
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const ids = useId();

  function field(name: keyof PasswordForm, value: string) {
    setForm((f) => ({ ...f, [name]: value }));
    // An error stays until its field is edited: the server's word on it no longer holds after that.
    setErrors((e) => (e[name] || e.form ? { ...e, [name]: undefined, form: undefined } : e));
    setDone(false);
  }

  /** Shows the errors, and takes the focus to the first field at fault so that it is read out and fixed first. */
  function showErrors(next: PasswordErrors) {
    setErrors(next);
    const first = (['current', 'next', 'confirm'] as const).find((k) => next[k]);
    if (first) document.getElementById(`${ids}-${first}`)?.focus();
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const local = validatePasswordForm(form);
    showErrors(local);
    setDone(false);
    if (hasErrors(local)) return;
    setBusy(true);
    try {
      await controller.changePassword(form);
      setForm(EMPTY_FORM);
      setDone(true);
      await onChanged();
    } catch (err) {
      showErrors(err instanceof ApiError ? passwordChangeErrors(err) : { form: describeError(err) });
    } finally {
      setBusy(false);
    }
  }

  const input = (name: keyof PasswordForm, label: string, autoComplete: string) => {
    const id = `${ids}-${name}`;
    const error = errors[name];
    return (
      <>
        <label htmlFor={id}>{label}</label>
        <input
          id={id}
          type="password"
          autoComplete={autoComplete}
          value={form[name]}
          onChange={(e) => field(name, e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
        />
        {error && (
          <p className="form-error field-error" id={`${id}-error`} data-testid={`password-${name}-error`}>
            {error}
          </p>
        )}
      </>
    );
  };

  return (
    <section className="settings-card" aria-labelledby="password-title">
      <h3 className="settings-heading" id="password-title">
        Password
      </h3>
      <form onSubmit={submit} aria-label="Change password" noValidate>
        {input('current', 'Current password', 'current-password')}
        {input('next', 'New password', 'new-password')}
        <p className="hint">8 to 256 characters. Changing it signs out every other session.</p>
        {input('confirm', 'Confirm new password', 'new-password')}
        {errors.form && (
          <p className="form-error" role="alert">
            {errors.form}
          </p>
        )}
        {done && (
          <p className="success" role="status" data-testid="password-changed">
            Password changed. Your other sessions were signed out.
          </p>
        )}
        <div className="settings-actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Changing…' : 'Change password'}
          </button>
        </div>
      </form>
    </section>
  );
}

function BlockedSection({ controller, state }: { controller: ChatController; state: ChatState }) {
  const [busy, setBusy] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function unblock(userId: number) {
    setBusy(userId);
    setError(null);
    try {
      await controller.unblock(userId);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="settings-card" aria-labelledby="blocked-title">
      <h3 className="settings-heading" id="blocked-title">
        Blocked people
      </h3>
      <p className="muted small-text">
        Neither you nor they can start a chat with the other, or add the other to a group or as a contact. Groups you share stay. Block someone from
        your chat with them.
      </p>
      {!state.blocksLoaded ? (
        <p className="muted">Loading…</p>
      ) : state.blocked.length === 0 ? (
        <p className="muted" data-testid="no-blocked">
          You haven’t blocked anyone.
        </p>
      ) : (
        <ul className="people" data-testid="blocked-people">
          {state.blocked.map((u) => (
            <li key={u.id} className="person">
              <Avatar name={u.display_name} id={u.id} size={34} />
              <span className="person-text">
                <strong>{u.display_name}</strong>
                <span className="muted">@{u.username}</span>
              </span>
              <span className="person-actions">
                <button type="button" className="small" disabled={busy !== null} onClick={() => void unblock(u.id)} aria-label={`Unblock ${u.display_name}`}>
                  Unblock
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function AccountSection({ controller, state }: { controller: ChatController; state: ChatState }) {
  const me = state.me;
  return (
    <section className="settings-card" aria-labelledby="account-title">
      <h3 className="settings-heading" id="account-title">
        Account
      </h3>
      <div className="account-row">
        <Avatar name={me.display_name} id={me.id} size={34} />
        <span className="person-text">
          <strong>{me.display_name}</strong>
          <span className="muted">@{me.username}</span>
        </span>
        <button type="button" onClick={() => void controller.logout()}>
          Log out
        </button>
      </div>
    </section>
  );
}
