// The session: kept in sessionStorage (one per tab, so two tabs can be two users), refreshed silently before the
// access token expires and whenever the server answers 401. Refreshes are single-flight: the refresh token
// is spent by one refresh, so two concurrent ones would log the user out.
import type { Session, User } from './types';

const KEY = 'chat.session';
/** Refresh this long before the access token expires. */
const EARLY_MS = 60_000;

export interface StoredSession {
  user: User;
  access_token: string;
  refresh_token: string;
  /** Epoch ms at which the access token expires. */
  expires_at: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string | null,
    /** How long the server asked us to wait (its `Retry-After`), ms; null when it did not say. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** `Retry-After` in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value == null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** The error of a failed response, from the server's `{"error":{"code","message"}}` shape when present. */
export async function errorFrom(response: Response, body?: unknown): Promise<ApiError> {
  let parsed = body;
  if (parsed === undefined) {
    try {
      parsed = await response.clone().json();
    } catch {
      parsed = undefined;
    }
  }
  const retryAfterMs = parseRetryAfter(response.headers.get('Retry-After'));
  const err = (parsed as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error;
  if (err && typeof err.code === 'string') {
    return new ApiError(response.status, err.code, typeof err.message === 'string' ? err.message : err.code, typeof err.field === 'string' ? err.field : null, retryAfterMs);
  }
  return new ApiError(response.status, 'http_' + response.status, `The server answered ${response.status} ${response.statusText}`.trim(), null, retryAfterMs);
}

type Listener = (session: StoredSession | null) => void;

export class Auth {
  private session: StoredSession | null;
  private refreshing: Promise<string> | null = null;
  private readonly listeners = new Set<Listener>();

  constructor(
    private readonly storage: Storage | null = typeof sessionStorage === 'undefined' ? null : sessionStorage,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
    private readonly now: () => number = () => Date.now(),
  ) {
    this.session = this.load();
  }

  get current(): StoredSession | null {
    return this.session;
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Adopts a session answered by register, login or refresh. */
  adopt(s: Session): StoredSession {
    const stored: StoredSession = {
      user: s.user,
      access_token: s.access_token,
      refresh_token: s.refresh_token,
      expires_at: this.now() + s.expires_in * 1000,
    };
    this.set(stored);
    return stored;
  }

  updateUser(user: User): void {
    if (this.session) this.set({ ...this.session, user });
  }

  /** A valid access token, refreshed first when it expires within a minute. */
  async token(): Promise<string> {
    const s = this.session;
    if (!s) throw new ApiError(401, 'logged_out', 'You are logged out.');
    if (s.expires_at - this.now() > EARLY_MS) return s.access_token;
    return this.refresh();
  }

  /** Spends the refresh token for a new session. Logs out when the server refuses it (401). */
  refresh(): Promise<string> {
    if (this.refreshing) return this.refreshing;
    const s = this.session;
    if (!s) return Promise.reject(new ApiError(401, 'logged_out', 'You are logged out.'));
    this.refreshing = (async () => {
      const response = await this.fetchImpl('/api/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: s.refresh_token }),
      });
      if (!response.ok) {
        const err = await errorFrom(response);
        if (response.status === 401 && this.session?.refresh_token === s.refresh_token) this.clear();
        throw err;
      }
      return this.adopt((await response.json()) as Session).access_token;
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Revokes the refresh token on the server (best effort) and forgets the session. */
  async logout(): Promise<void> {
    const s = this.session;
    this.clear();
    if (!s) return;
    try {
      await this.fetchImpl('/api/auth/logout', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${s.access_token}` },
        body: JSON.stringify({ refresh_token: s.refresh_token }),
      });
    } catch {
      /* offline: the refresh token simply expires */
    }
  }

  clear(): void {
    this.set(null);
  }

  private set(s: StoredSession | null): void {
    this.session = s;
    try {
      if (s) this.storage?.setItem(KEY, JSON.stringify(s));
      else this.storage?.removeItem(KEY);
    } catch {
      /* storage full or disabled: the session lives in memory only */
    }
    for (const fn of this.listeners) fn(s);
  }

  private load(): StoredSession | null {
    try {
      const raw = this.storage?.getItem(KEY);
      if (!raw) return null;
      const s = JSON.parse(raw) as StoredSession;
      if (typeof s?.access_token !== 'string' || typeof s?.refresh_token !== 'string' || typeof s?.user?.id !== 'number') return null;
      return s;
    } catch {
      return null;
    }
  }
}
