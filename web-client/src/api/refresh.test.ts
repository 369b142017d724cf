import { afterEach, describe, expect, it, vi } from 'vitest';
import { Auth, needsRefresh, refreshDelayMs, type HeldSession } from './auth';
import { refreshMarginMs, type TabNews, type TabSync } from './tabsync';
import { sameAccount } from '../logic/session';

const user = { id: 7, username: 'alice', display_name: 'Alice' };

/** The server's web routes over one browser's cookie jar: the cookie rotates, and a spent one ends the session. */
function server(expires_in: number) {
  let cookie = 1;
  let ended = false;
  const fetchImpl = vi.fn(async (url: string | URL | Request) => {
    const path = String(url);
    if (path.endsWith('/refresh') && ended) return new Response(JSON.stringify({ error: { code: 'unauthorized', message: 'Ended.' } }), { status: 401 });
    cookie += 1;
    return new Response(JSON.stringify({ user: { ...user }, session_id: 1, access_token: `a${cookie}`, expires_in }), { status: 200 });
  });
  return { fetchImpl: fetchImpl as unknown as typeof fetch, calls: fetchImpl, end: () => (ended = true) };
}

/** Tabs of one browser: one lock, one channel that reaches every tab but the sender. */
function browser() {
  let tail: Promise<unknown> = Promise.resolve();
  const tabs = new Set<{ fn: (news: TabNews) => void }>();
  return (): TabSync => {
    const me = { fn: (_: TabNews) => {} };
    tabs.add(me);
    return {
      exclusive<T>(fn: () => Promise<T>) {
        const run = tail.then(fn, fn);
        tail = run.catch(() => {});
        return run;
      },
      tell(news) {
        for (const t of tabs) if (t !== me) t.fn(structuredClone(news));
      },
      subscribe(fn) {
        me.fn = fn;
        return () => {};
      },
    };
  };
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
    const s: HeldSession = { user, access_token: 'a', expires_at: 1_000 + 30_000, lifetime_ms: 30_000 };
    expect(needsRefresh(s, 1_000)).toBe(false);
    expect(refreshDelayMs(s, 1_000)).toBe(24_000);
    expect(needsRefresh(s, 1_000 + 24_000)).toBe(true);
  });
});

describe('keepFresh', () => {
  it('refreshes once per lifetime with a 10 s token: no loop', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { fetchImpl, calls } = server(10);
    const auth = new Auth(fetchImpl, () => Date.now());
    await auth.login('alice', 'pw');
    const stop = auth.keepFresh();
    await vi.advanceTimersByTimeAsync(60_000);
    // 8 s apart (10 s less a 2 s margin): 7 refreshes in a minute after the login, and every one succeeded.
    expect(calls).toHaveBeenCalledTimes(8);
    expect(auth.current?.access_token).toBe('a9');
    stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveBeenCalledTimes(8);
  });

  it('keeps the same account across a refresh and a new display name, so the chat is not rebuilt', async () => {
    const { fetchImpl } = server(900);
    const auth = new Auth(fetchImpl);
    const before = (await auth.login('alice', 'pw')).user;
    await auth.refresh();
    expect(auth.current?.user).not.toBe(before);
    expect(sameAccount(before, auth.current!.user)).toBe(true);
    auth.updateUser({ ...before, display_name: 'Al' });
    expect(sameAccount(before, auth.current!.user)).toBe(true);
  });
});

describe('tabs sharing the cookie', () => {
  it('a tab that starts takes the session another tab holds, without spending the cookie', async () => {
    const { fetchImpl, calls } = server(900);
    const tab = browser();
    const a = new Auth(fetchImpl, undefined, tab());
    await a.login('alice', 'pw');
    const b = new Auth(fetchImpl, undefined, tab());
    await b.restore();
    expect(b.current?.access_token).toBe('a2');
    expect(calls).toHaveBeenCalledTimes(1);
  });

  it('refresh at the same time: the cookie is spent once and both tabs hold the new token', async () => {
    const { fetchImpl, calls } = server(900);
    const tab = browser();
    const a = new Auth(fetchImpl, undefined, tab());
    const b = new Auth(fetchImpl, undefined, tab());
    await a.login('alice', 'pw');
    expect(b.current?.access_token).toBe('a2');
    const [ta, tb] = await Promise.all([a.refresh(), b.refresh()]);
    expect(calls).toHaveBeenCalledTimes(2);
    expect(ta).toBe('a3');
    expect(tb).toBe('a3');
  });

  it('a logout in one tab signs the other out, without a message', async () => {
    const { fetchImpl } = server(900);
    const tab = browser();
    const a = new Auth(fetchImpl, undefined, tab());
    const b = new Auth(fetchImpl, undefined, tab());
    await a.login('alice', 'pw');
    await a.logout();
    expect(b.current).toBeNull();
    expect(b.signOutReason).toBe('logged_out');
  });

  it('a session ended elsewhere signs every tab out, with the reason', async () => {
    const { fetchImpl, end } = server(900);
    const tab = browser();
    const a = new Auth(fetchImpl, undefined, tab());
    const b = new Auth(fetchImpl, undefined, tab());
    await a.login('alice', 'pw');
    end();
    await expect(a.refresh()).rejects.toMatchObject({ status: 401 });
    expect(b.current).toBeNull();
    expect(b.signOutReason).toBe('session_ended');
  });
});
