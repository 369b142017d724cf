// The browser session (`/api/auth/web/*`): the refresh token lives only in an HttpOnly cookie the page cannot
// read, and the access token only in this object's memory — nothing a script could steal outlives the page.
// Every tab of the browser shares the one cookie, so every tab is signed in, and after a restart too: a tab that
// starts asks the others for their access token and, if none answers, spends the cookie for one ("restore").
// The cookie rotates on every refresh and the server ends the session when a spent one comes back, so refreshes
// are single-flight within the tab and across tabs (TabSync): one Web Lock, and the tab that refreshed hands the
// new access token to the others. A refresh only swaps tokens: subscribers see the same user, so nothing on
// screen has a reason to change.
import { refreshMarginMs, type TabSync } from './tabsync';
import type { User } from './types';

/** After a refresh that failed for want of a network, try again this much later (the 401 path covers the rest). */
const RETRY_MS = 10_000;
/** How long a starting tab waits for another tab to hand it the session before it spends the cookie. */
const ASK_WAIT_MS = 200;
/** A starting tab that cannot reach the server tries again after this long, doubling up to the maximum. */
const RESTORE_RETRY_MS = 1_000;
const RESTORE_RETRY_MAX_MS = 10_000;

/** The signed-in session as this tab holds it, in memory only. */
export interface HeldSession {
  user: User;
  access_token: string;
  /** Epoch ms at which the access token expires. */
  expires_at: number;
  /** The access token's whole lifetime (ms): the early-refresh margin scales with it. */
  lifetime_ms: number;
}

/** What `/api/auth/web/*` answers (the refresh token went into the cookie). */
export interface WebSession {
  user: User;
  access_token: string;
  expires_in: number;
}

/** Whether the token should be refreshed now: it expires within its margin. */
export function needsRefresh(s: HeldSession, now: number): boolean {
  return s.expires_at - now <= refreshMarginMs(s.lifetime_ms);
}

/** How long to wait before refreshing proactively (0: now). */
export function refreshDelayMs(s: HeldSession, now: number): number {
  return Math.max(0, s.expires_at - refreshMarginMs(s.lifetime_ms) - now);
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

type Listener = (session: HeldSession | null) => void;

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
  private session: HeldSession | null = null;
  private restoring: Promise<void> | null = null;
  private restored = false;
  private refreshing: Promise<string> | null = null;
  private reason: SignOutReason | null = null;
  private readonly listeners = new Set<Listener>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private keepers = 0;

  constructor(
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
    private readonly now: () => number = () => Date.now(),
    private readonly sync: TabSync | null = null,
  ) {
    sync?.subscribe((news) => {
      switch (news.type) {
        case 'session':
          // Another tab refreshed, or signed in (the cookie is now that session's, whoever this tab held).
          // A newer token (ties included: two issued within the same millisecond), never an older one come late.
          const cur = this.session;
          if (!cur || news.session.user.id !== cur.user.id || (news.session.access_token !== cur.access_token && news.session.expires_at >= cur.expires_at)) {
            this.reason = null;
            this.set(news.session);
          }
          break;
        case 'signed_out':
          if (this.session) this.clear(news.reason, false);
          break;
        case 'ask':
          if (this.session && !needsRefresh(this.session, this.now())) this.sync?.tell({ type: 'session', session: this.session });
          break;
      }
    });
  }

  /**
   * Signs this tab in from what the browser already has, once: another tab's session, else the cookie's.
   * Resolves either way; `current` says which (no cookie, or a refused one, is simply signed out).
   */
  restore(): Promise<void> {
    this.restoring ??= (async () => {
      if (this.session) return;
      if (this.sync) {
        this.sync.tell({ type: 'ask' });
        await new Promise((r) => setTimeout(r, ASK_WAIT_MS));
        if (this.session) return;
      }
      // Only the server's refusal (401, 403) means "signed out": an unreachable, failing or busy server is waited
      // for, since the sign-in form could do no better, and the cookie may well still be good.
      for (let wait = RESTORE_RETRY_MS; ; wait = Math.min(wait * 2, RESTORE_RETRY_MAX_MS)) {
        let pause = wait;
        try {
          await this.spendCookie(null, false);
          return;
        } catch (e) {
          if (this.session || (e instanceof ApiError && (e.status === 401 || e.status === 403))) return;
          if (e instanceof ApiError && e.retryAfterMs !== null) pause = Math.max(wait, e.retryAfterMs);
        }
        await new Promise((r) => setTimeout(r, pause));
        if (this.session) return;
      }
    })().finally(() => {
      this.restored = true;
      for (const fn of [...this.listeners]) fn(this.session);
    });
    return this.restoring;
  }

  /** Whether `restore` is still finding out if this browser is signed in. */
  get isRestoring(): boolean {
    return this.restoring !== null && !this.restored && this.session === null;
  }

  async login(username: string, password: string): Promise<HeldSession> {
    return this.start('/api/auth/web/login', { username, password });
  }

  async register(username: string, password: string, displayName: string | null): Promise<HeldSession> {
    return this.start('/api/auth/web/register', { username, password, display_name: displayName });
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

  get current(): HeldSession | null {
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
   * A new access token for the cookie. A 401 means the session is over (ended from another device, by a
   * password change, or a spent cookie presented): forget it, here and in every tab, and say why.
   */
  refresh(): Promise<string> {
    if (this.refreshing) return this.refreshing;
    const held = this.session;
    if (!held) return Promise.reject(new ApiError(401, 'logged_out', 'You are logged out.'));
    this.refreshing = this.spendCookie(held.access_token, true).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Ends this session on the server (best effort) and forgets it at once, in every tab. */
  async logout(): Promise<void> {
    const token = await this.freshTokenOrNull();
    if (!token) return;
    this.clear('logged_out');
    try {
      await this.fetchImpl('/api/auth/web/logout', { method: 'POST', credentials: 'same-origin', headers: { Authorization: `Bearer ${token}` } });
    } catch {
      /* offline: the cookie's token expires unused */
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

  /** Forgets the session; `tell`: the other tabs forget it too (they share its cookie). */
  clear(reason: SignOutReason = 'logged_out', tell = true): void {
    this.reason = reason;
    this.set(null);
    if (tell) this.sync?.tell({ type: 'signed_out', reason });
  }

  /**
   * Spends the cookie under the tabs' lock. `stale`: the access token this tab wanted replaced — when another
   * tab replaced it while this one waited for the lock, its token is taken instead and the cookie left alone.
   */
  private async spendCookie(stale: string | null, endsSession: boolean): Promise<string> {
    const run = async (): Promise<string> => {
      const cur = this.session;
      if (cur && cur.access_token !== stale && !needsRefresh(cur, this.now())) return cur.access_token;
      if (stale !== null && !cur) throw new ApiError(401, 'logged_out', 'You are logged out.');
      const response = await this.fetchImpl('/api/auth/web/refresh', { method: 'POST', credentials: 'same-origin' });
      if (!response.ok) {
        const err = await errorFrom(response);
        if (response.status === 401 && endsSession && this.session?.access_token === stale) this.clear('session_ended');
        throw err;
      }
      return this.adopt((await response.json()) as WebSession).access_token;
    };
    return this.sync ? this.sync.exclusive(run) : run();
  }

  private async start(path: string, body: unknown): Promise<HeldSession> {
    const response = await this.fetchImpl(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw await errorFrom(response);
    return this.adopt((await response.json()) as WebSession);
  }

  /** A session answered by the server: held here, and handed to the other tabs. */
  private adopt(s: WebSession): HeldSession {
    const held: HeldSession = { user: s.user, access_token: s.access_token, expires_at: this.now() + s.expires_in * 1000, lifetime_ms: s.expires_in * 1000 };
    this.reason = null;
    this.set(held);
    this.sync?.tell({ type: 'session', session: held });
    return held;
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

  private set(s: HeldSession | null): void {
    this.session = s;
    for (const fn of [...this.listeners]) fn(s);
    this.schedule();
  }
}
