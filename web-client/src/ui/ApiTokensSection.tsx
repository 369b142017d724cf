import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import type { ApiToken, CreatedApiToken } from '../api/types';
import { dateTime, lastActive } from '../logic/account';
import {
  EMPTY_TOKEN_FORM,
  LIFETIMES,
  SCOPES,
  expiryLabel,
  isExpired,
  scopeList,
  toggleScope,
  tokenRequest,
  validateTokenForm,
  type TokenForm,
  type TokenFormErrors,
} from '../logic/apiTokens';
import type { ChatController } from '../state/controller';
import { describeError } from '../state/errors';
import { ConfirmDialog } from './dialogs/ConfirmDialog';

/** Settings: the account's API tokens for scripts and bots — listed, created (the secret shown once), revoked. */
export function ApiTokensSection({ controller }: { controller: ChatController }) {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      setTokens(await controller.apiTokens.list());
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }, [controller]);

  useEffect(() => void reload(), [reload]);

  async function onCreated(token: CreatedApiToken) {
    setCreated(token);
    setStatus(null);
    await reload();
  }

  return (
    <section className="settings-card" aria-labelledby="api-tokens-title">
      <h3 className="settings-heading" id="api-tokens-title">
        API tokens
      </h3>
      <p className="muted small-text">
        For scripts and bots: send <code>Authorization: Bearer &lt;token&gt;</code>. A token can do only what its scopes allow, never change your account,
        and stops working the moment you revoke it.
      </p>
      {created && <NewSecret created={created} onDone={() => setCreated(null)} />}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {tokens === null && !error && <p className="muted">Loading tokens…</p>}
      {tokens?.length === 0 && (
        <p className="muted" data-testid="no-api-tokens">
          You have no API tokens.
        </p>
      )}
      {tokens && tokens.length > 0 && (
        <ul className="sessions" data-testid="api-tokens">
          {tokens.map((t) => (
            <li key={t.id} className="session-row" data-testid="api-token-row" data-expired={isExpired(t) ? 'true' : 'false'}>
              <span className="session-text">
                <span className="session-name">
                  <strong>{t.name}</strong>
                  <span className="token-scopes" data-testid="api-token-scopes">
                    {scopeList(t)}
                  </span>
                </span>
                <span className="muted small-text">
                  Created {dateTime(t.created_at)} · {t.last_used_at ? `last used ${lastActive(t.last_used_at)}` : 'never used'} · {expiryLabel(t.expires_at)}
                </span>
              </span>
              <button type="button" className="small ghost danger" onClick={() => setRevoking(t)} aria-haspopup="dialog" aria-label={`Revoke ${t.name}`}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      {status && (
        <p className="muted small-text settings-status" role="status">
          {status}
        </p>
      )}
      <CreateTokenForm controller={controller} onCreated={onCreated} />
      {revoking && (
        <ConfirmDialog
          title={`Revoke “${revoking.name}”?`}
          confirmLabel="Revoke"
          danger
          onConfirm={async () => {
            await controller.apiTokens.revoke(revoking.id);
            setStatus(`“${revoking.name}” was revoked.`);
            await reload();
          }}
          onClose={() => setRevoking(null)}
        >
          <p>Anything using this token is refused from now on, and its open connections close.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** The new token's secret, shown this once with a copy button. */
function NewSecret({ created, onDone }: { created: CreatedApiToken; onDone: () => void }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  const id = useId();

  async function copy() {
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  }

  return (
    <div className="new-secret" role="region" aria-labelledby={`${id}-title`} data-testid="new-api-token">
      <p id={`${id}-title`}>
        <strong>{created.token.name}</strong> was created. Copy its token now: it will not be shown again.
      </p>
      <input className="secret-value" readOnly value={created.secret} aria-label="New API token" data-testid="new-api-token-secret" onFocus={(e) => e.target.select()} />
      <div className="settings-actions">
        <button type="button" className="primary" onClick={() => void copy()}>
          Copy token
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
      {copied !== null && (
        <p className="muted small-text" role="status">
          {copied ? 'Copied to the clipboard.' : 'Copying is not allowed here: select the token and copy it by hand.'}
        </p>
      )}
    </div>
  );
}

function CreateTokenForm({ controller, onCreated }: { controller: ChatController; onCreated: (t: CreatedApiToken) => Promise<void> }) {
  const [form, setForm] = useState<TokenForm>(EMPTY_TOKEN_FORM);
  const [errors, setErrors] = useState<TokenFormErrors & { form?: string }>({});
  const [busy, setBusy] = useState(false);
  const ids = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const local = validateTokenForm(form);
    setErrors(local);
    if (local.name || local.scopes) {
      document.getElementById(`${ids}-${local.name ? 'name' : 'scope-read'}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const created = await controller.apiTokens.create(tokenRequest(form));
      setForm(EMPTY_TOKEN_FORM);
      await onCreated(created);
    } catch (err) {
      setErrors({ form: describeError(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-label="Create an API token" noValidate className="token-form">
      <label htmlFor={`${ids}-name`}>Token name</label>
      <input
        id={`${ids}-name`}
        value={form.name}
        maxLength={64}
        onChange={(e) => setForm((f) => ({ ...f, name: e.target.value }))}
        aria-invalid={errors.name ? true : undefined}
        aria-describedby={errors.name ? `${ids}-name-error` : undefined}
        placeholder="nightly backup"
      />
      {errors.name && (
        <p className="form-error field-error" id={`${ids}-name-error`}>
          {errors.name}
        </p>
      )}
      <fieldset className="token-scopes-field" aria-describedby={errors.scopes ? `${ids}-scopes-error` : undefined}>
        <legend>Scopes</legend>
        {SCOPES.map(({ scope, label, hint }) => (
          <label key={scope} className="check">
            <input
              id={`${ids}-scope-${scope}`}
              type="checkbox"
              checked={form.scopes.includes(scope)}
              onChange={(e) => setForm((f) => ({ ...f, scopes: toggleScope(f.scopes, scope, e.target.checked) }))}
            />
            <span>
              {label} <span className="muted small-text">— {hint}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {errors.scopes && (
        <p className="form-error field-error" id={`${ids}-scopes-error`}>
          {errors.scopes}
        </p>
      )}
      <label htmlFor={`${ids}-days`}>Expires after</label>
      <select id={`${ids}-days`} value={form.days} onChange={(e) => setForm((f) => ({ ...f, days: Number(e.target.value) }))}>
        {LIFETIMES.map((d) => (
          <option key={d} value={d}>
            {d} days
          </option>
        ))}
      </select>
      {errors.form && (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="settings-actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create token'}
        </button>
      </div>
    </form>
  );
}
