// The session: kept in sessionStorage (one per tab, so two tabs can be two users), refreshed silently before the
// access token expires and whenever the server answers 401. Refreshes are single-flight, within the tab and
// across tabs (TabSync): the refresh token is spent by one refresh, so two concurrent ones would log the user
// out. A refresh only swaps tokens: subscribers see the same user, so nothing on screen has a reason to change.
import { fingerprint as fingerprintOf, refreshMarginMs, type TabSync } from './tabsync';
import type { Session, User } from './types';

const KEY = 'chat.session';
/** Sessions stored before the lifetime was kept: the server's default lifetime. */
const DEFAULT_LIFETIME_MS = 900_000;
/** After a refresh that failed for want of a network, try again this much later (the 401 path covers the rest). */
const RETRY_MS = 10_000;
/** How long a tab waits for the news of a refresh another tab has made of the same token. */
const ROTATION_WAIT_MS = 3_000;

export interface StoredSession {
  user: User;
  access_token: string;
  refresh_token: string;
  /** Epoch ms at which the access token expires. */
  expires_at: number;
  /** The access token's whole lifetime (ms): the early-refresh margin scales with it. */
  lifetime_ms?: number;
}

/** Whether the token should be refreshed now: it expires within its margin. */
export function needsRefresh(s: StoredSession, now: number): boolean {
  return s.expires_at - now <= refreshMarginMs(s.lifetime_ms ?? DEFAULT_LIFETIME_MS);
}

/** How long to wait before refreshing proactively (0: now). */
export function refreshDelayMs(s: StoredSession, now: number): number {
  return Math.max(0, s.expires_at - refreshMarginMs(s.lifetime_ms ?? DEFAULT_LIFETIME_MS) - now);
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

/** Why there is no session any more: decides what the sign-in screen says. */
export type SignOutReason =
  /** The user logged out here. */
  | 'logged_out'
  /** The user ended every session of the account from here. */
  | 'logged_out_everywhere'
  /** The server refused the refresh token: the session was ended elsewhere (or by a password change). */
  | 'session_ended';

/** The sign-in screen's message after a sign-out, or null when none is needed (the user asked for it). */
export function signOutMessage(reason: SignOutReason | null): string | null {
  switch (reason) {
    case 'session_ended':
      return 'You were signed out (this session was ended from another device or by a password change).';
    case 'logged_out_everywhere':
      return 'You signed out on every device.';
    default:
      return null;
  }
}

export class Auth {
  private session: StoredSession | null;
  private refreshing: Promise<string> | null = null;
  private reason: SignOutReason | null = null;
  private readonly listeners = new Set<Listener>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private keepers = 0;

  constructor(
    private readonly storage: Storage | null = typeof sessionStorage === 'undefined' ? null : sessionStorage,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
    private readonly now: () => number = () => Date.now(),
    private readonly sync: TabSync | null = null,
  ) {
    this.session = this.load();
    // Another tab refreshed the session this tab holds: take its tokens rather than spend a spent one.
    sync?.subscribe((spent, next) => {
      if (this.session && fingerprintOf(this.session.refresh_token) === spent) this.set(next);
    });
  }

  /**
   * Refreshes ahead of expiry (by the margin) for as long as someone keeps it fresh; returns the stop.
   * One timer however many callers: a short lifetime means one refresh per lifetime, never a loop.
   */
  keepFresh(): () => void {
    this.keepers += 1;
    this.schedule();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.keepers -= 1;
      this.schedule();
    };
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const s = this.session;
    if (!s || this.keepers === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.session && needsRefresh(this.session, this.now())) {
        this.refresh().catch(() => {
          if (this.session && !this.timer) this.timer = setTimeout(() => this.schedule(), RETRY_MS);
        });
      } else this.schedule();
    }, refreshDelayMs(s, this.now()));
  }

  get current(): StoredSession | null {
    return this.session;
  }

  /** Why the last session ended (null while signed in, or when nobody has signed in yet in this tab). */
  get signOutReason(): SignOutReason | null {
    return this.reason;
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
      lifetime_ms: s.expires_in * 1000,
    };
    this.reason = null;
    this.set(stored);
    return stored;
  }

  updateUser(user: User): void {
    if (this.session) this.set({ ...this.session, user });
  }

  /** A valid access token, refreshed first when it expires within its margin. */
  async token(): Promise<string> {
    const s = this.session;
    if (!s) throw new ApiError(401, 'logged_out', 'You are logged out.');
    if (!needsRefresh(s, this.now())) return s.access_token;
    return this.refresh();
  }

  /**
   * Spends the refresh token for a new access token. A 401 means the session is over (ended from another
   * device, by a password change, or a spent token presented twice): forget it, and say why.
   */
  refresh(): Promise<string> {
    if (this.refreshing) return this.refreshing;
    const s = this.session;
    if (!s) return Promise.reject(new ApiError(401, 'logged_out', 'You are logged out.'));
    const run = async (): Promise<string> => {
      // Another tab may have refreshed this very session while this one waited for the lock.
      const cur = this.session;
      if (!cur) throw new ApiError(401, 'logged_out', 'You are logged out.');
      if (cur.refresh_token !== s.refresh_token) return cur.access_token;
      if (this.sync?.wasSpent(s.refresh_token)) {
        const next = await this.rotated(s.refresh_token);
        if (next) return next.access_token;
      }
      const response = await this.fetchImpl('/api/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: s.refresh_token }),
      });
      if (!response.ok) {
        const err = await errorFrom(response);
        if (response.status === 401 && this.session?.refresh_token === s.refresh_token) this.clear('session_ended');
        throw err;
      }
      const stored = this.adopt((await response.json()) as Session);
      this.sync?.publish(s.refresh_token, stored);
      return stored.access_token;
    };
    this.refreshing = (this.sync ? this.sync.exclusive(run) : run()).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Ends this session on the server (best effort) and forgets it at once. */
  async logout(): Promise<void> {
    const token = await this.freshTokenOrNull();
    if (!token) return;
    this.clear('logged_out');
    try {
      await this.fetchImpl('/api/auth/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    } catch {
      /* offline: the refresh token expires unused */
    }
  }

  /** Ends every session of the account, this one included. Throws (and stays signed in) when the server did not. */
  async logoutEverywhere(): Promise<void> {
    const token = await this.freshTokenOrNull();
    if (!token) return;
    const response = await this.fetchImpl('/api/auth/logout-all', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    if (response.status === 401) return this.clear('session_ended');
    if (!response.ok) throw await errorFrom(response);
    this.clear('logged_out_everywhere');
  }

  /** The session that replaced the one holding `spent`, once another tab says so; null if none came in time. */
  private rotated(spent: string): Promise<StoredSession | null> {
    return new Promise((resolve) => {
      const done = (s: StoredSession | null) => {
        clearTimeout(t);
        off();
        resolve(s);
      };
      const off = this.subscribe((s) => {
        if (!s || s.refresh_token !== spent) done(s);
      });
      const t = setTimeout(() => done(null), ROTATION_WAIT_MS);
      if (this.session?.refresh_token !== spent) done(this.session);
    });
  }

  clear(reason: SignOutReason = 'logged_out'): void {
    this.reason = reason;
    this.set(null);
  }

  /** The access token to end the session with; null once the session is gone (a refused refresh ended it). */
  private async freshTokenOrNull(): Promise<string | null> {
    const s = this.session;
    if (!s) return null;
    try {
      return await this.token();
    } catch {
      return this.session ? s.access_token : null;
    }
  }

  private set(s: StoredSession | null): void {
    this.session = s;
    try {
      if (s) this.storage?.setItem(KEY, JSON.stringify(s));
      else this.storage?.removeItem(KEY);
    } catch {
      /* storage full or disabled: the session lives in memory only */
    }
    for (const fn of [...this.listeners]) fn(s);
    this.schedule();
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
