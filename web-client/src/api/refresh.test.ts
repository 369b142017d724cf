import { afterEach, describe, expect, it, vi } from 'vitest';
import { Auth, needsRefresh, refreshDelayMs, type StoredSession } from './auth';
import { fingerprint, refreshMarginMs, type TabSync } from './tabsync';
import { sameAccount } from '../logic/session';

const user = { id: 7, username: 'alice', display_name: 'Alice' };
const session = (n: number, expires_in: number) => ({ user: { ...user }, session_id: 1, access_token: `a${n}`, refresh_token: `r${n}`, expires_in });

/** A server that rotates refresh tokens, like the real one: a spent token is refused. */
function server(expires_in: number) {
  let n = 1;
  return vi.fn(async (_url: string | URL | Request, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body));
    if (body.refresh_token !== `r${n}`) return new Response(JSON.stringify({ error: { code: 'invalid_token', message: 'Spent.' } }), { status: 401 });
    n += 1;
    return new Response(JSON.stringify(session(n, expires_in)), { status: 200 });
  });
}

/** Tabs of one browser: one lock, one channel, one set of spent markers. */
function browser() {
  let tail: Promise<unknown> = Promise.resolve();
  const subs = new Set<(spent: string, next: StoredSession) => void>();
  const spent = new Set<string>();
  const sync = (): TabSync => ({
    exclusive<T>(fn: () => Promise<T>) {
      const run = tail.then(fn, fn);
      tail = run.catch(() => {});
      return run;
    },
    publish(old, next) {
      spent.add(fingerprint(old));
      for (const fn of subs) fn(fingerprint(old), next);
    },
    wasSpent: (t) => spent.has(fingerprint(t)),
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  });
  return { sync };
}

afterEach(() => vi.useRealTimers());

describe('refresh margin', () => {
  it('is a minute for long lifetimes and a fifth of short ones', () => {
    expect(refreshMarginMs(900_000)).toBe(60_000);
    expect(refreshMarginMs(300_000)).toBe(60_000);
    expect(refreshMarginMs(60_000)).toBe(12_000);
    expect(refreshMarginMs(10_000)).toBe(2_000);
  });

  it('leaves a token at or below a minute of lifetime alone right after it was issued', () => {
    const s: StoredSession = { user, access_token: 'a', refresh_token: 'r', expires_at: 1_000 + 30_000, lifetime_ms: 30_000 };
    expect(needsRefresh(s, 1_000)).toBe(false);
    expect(refreshDelayMs(s, 1_000)).toBe(24_000);
    expect(needsRefresh(s, 1_000 + 24_000)).toBe(true);
  });
});

describe('keepFresh', () => {
  it('refreshes once per lifetime with a 10 s token: no loop', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const fetchImpl = server(10);
    const auth = new Auth(null, fetchImpl as unknown as typeof fetch, () => Date.now());
    auth.adopt(session(1, 10));
    const stop = auth.keepFresh();
    await vi.advanceTimersByTimeAsync(60_000);
    // 8 s apart (10 s less a 2 s margin): 7 refreshes in a minute, and every one succeeded.
    expect(fetchImpl).toHaveBeenCalledTimes(7);
    expect(auth.current?.refresh_token).toBe('r8');
    stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetchImpl).toHaveBeenCalledTimes(7);
  });

  it('keeps the same account across a refresh and a new display name, so the chat is not rebuilt', async () => {
    const auth = new Auth(null, server(900) as unknown as typeof fetch);
    const before = auth.adopt(session(1, 900)).user;
    await auth.refresh();
    expect(auth.current?.user).not.toBe(before);
    expect(sameAccount(before, auth.current!.user)).toBe(true);
    auth.updateUser({ ...before, display_name: 'Al' });
    expect(sameAccount(before, auth.current!.user)).toBe(true);
    expect(sameAccount(before, { ...before, id: 2 })).toBe(false);
  });
});

describe('tabs sharing one session', () => {
  it('spend the refresh token once; the other tab takes the new tokens', async () => {
    const fetchImpl = server(900);
    const { sync } = browser();
    const a = new Auth(null, fetchImpl as unknown as typeof fetch, undefined, sync());
    const b = new Auth(null, fetchImpl as unknown as typeof fetch, undefined, sync());
    a.adopt(session(1, 900));
    b.adopt(session(1, 900));
    const [ta, tb] = await Promise.all([a.refresh(), b.refresh()]);
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    expect(ta).toBe('a2');
    expect(tb).toBe('a2');
    expect(b.current?.refresh_token).toBe('r2');
    expect(b.signOutReason).toBeNull();
  });

  it('a tab that missed the news does not present the spent token: it waits for it', async () => {
    const fetchImpl = server(900);
    const spent = new Set<string>();
    let deliver: ((fp: string, next: StoredSession) => void) | null = null;
    const late: TabSync = {
      exclusive: (fn) => fn(),
      publish: () => {},
      wasSpent: (t) => spent.has(fingerprint(t)),
      subscribe: (fn) => ((deliver = fn), () => {}),
    };
    const b = new Auth(null, fetchImpl as unknown as typeof fetch, undefined, late);
    b.adopt(session(1, 900));
    spent.add(fingerprint('r1'));
    const pending = b.refresh();
    const next: StoredSession = { user, access_token: 'a2', refresh_token: 'r2', expires_at: Date.now() + 900_000, lifetime_ms: 900_000 };
    deliver!(fingerprint('r1'), next);
    expect(await pending).toBe('a2');
    expect(fetchImpl).not.toHaveBeenCalled();
  });
});
