import { describe, expect, it, vi } from 'vitest';
import { Auth, errorFrom, parseRetryAfter, signOutMessage } from './auth';

const user = { id: 7, username: 'alice', display_name: 'Alice' };
const answer = (n: number, expires_in = 900) => new Response(JSON.stringify({ user, session_id: 1, access_token: `a${n}`, expires_in }), { status: 200 });
const refusing = (status: number, code: string) => vi.fn(async () => new Response(JSON.stringify({ error: { code, message: 'No.' } }), { status }));

/** The server's web routes over one cookie jar: login sets the cookie, each refresh rotates it. */
function cookieServer() {
  let n = 0;
  const calls: Array<{ url: string; init?: RequestInit }> = [];
  const fetchImpl = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init });
    n += 1;
    return answer(n);
  });
  return { calls, fetchImpl: fetchImpl as unknown as typeof fetch };
}

async function signedIn(fetchImpl: typeof fetch, now?: () => number) {
  const auth = new Auth(fetchImpl, now);
  await auth.login('alice', 'pw');
  return auth;
}

describe('Auth', () => {
  it('signs in over the web route and holds the access token, with no refresh token anywhere', async () => {
    const { calls, fetchImpl } = cookieServer();
    const auth = await signedIn(fetchImpl);
    expect(calls[0].url).toBe('/api/auth/web/login');
    expect(calls[0].init?.credentials).toBe('same-origin');
    expect(auth.current).toMatchObject({ user, access_token: 'a1', lifetime_ms: 900_000 });
    expect(JSON.stringify(auth.current)).not.toContain('refresh');
  });

  it('restores the session from the cookie on load', async () => {
    const { calls, fetchImpl } = cookieServer();
    const auth = new Auth(fetchImpl);
    expect(auth.current).toBeNull();
    await auth.restore();
    expect(calls.map((c) => c.url)).toEqual(['/api/auth/web/refresh']);
    expect(auth.current?.access_token).toBe('a1');
  });

  it('restores to signed out, with nothing to explain, when there is no cookie', async () => {
    const auth = new Auth(refusing(401, 'unauthorized') as unknown as typeof fetch);
    await auth.restore();
    expect(auth.current).toBeNull();
    expect(auth.isRestoring).toBe(false);
    expect(signOutMessage(auth.signOutReason)).toBeNull();
  });

  it('waits for a server it cannot reach on load rather than show the sign-in form', async () => {
    vi.useFakeTimers();
    const fetchImpl = vi
      .fn()
      .mockRejectedValueOnce(new TypeError('Failed to fetch'))
      .mockResolvedValueOnce(new Response(JSON.stringify({ error: { code: 'busy', message: 'Later.' } }), { status: 503 }))
      .mockResolvedValueOnce(answer(1));
    const auth = new Auth(fetchImpl as unknown as typeof fetch);
    const restored = auth.restore();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(auth.isRestoring).toBe(true);
    await vi.advanceTimersByTimeAsync(2_000);
    await restored;
    expect(auth.current?.access_token).toBe('a1');
    vi.useRealTimers();
  });

  it('hands out the token as is while it is fresh, refreshes within a minute of expiry', async () => {
    const { fetchImpl, calls } = cookieServer();
    const clock = { now: 1_000_000 };
    const auth = await signedIn(fetchImpl, () => clock.now);
    expect(await auth.token()).toBe('a1');
    clock.now += 850_000;
    expect(await auth.token()).toBe('a2');
    expect(calls.map((c) => c.url)).toEqual(['/api/auth/web/login', '/api/auth/web/refresh']);
  });

  it('spends the cookie once even when many callers refresh at the same time', async () => {
    const { fetchImpl, calls } = cookieServer();
    const auth = await signedIn(fetchImpl);
    const tokens = await Promise.all([auth.refresh(), auth.refresh(), auth.refresh()]);
    expect(tokens).toEqual(['a2', 'a2', 'a2']);
    expect(calls).toHaveLength(2);
  });
});

describe('a session ended elsewhere', () => {
  it('is told apart from a logout: a refused refresh (401) signs out with the reason "session_ended"', async () => {
    const fetchImpl = vi.fn().mockResolvedValueOnce(answer(1)).mockImplementation(refusing(401, 'invalid_refresh_token'));
    const auth = await signedIn(fetchImpl as unknown as typeof fetch);
    const seen: unknown[] = [];
    auth.subscribe((s) => seen.push(s));
    await expect(auth.refresh()).rejects.toMatchObject({ status: 401 });
    expect(auth.current).toBeNull();
    expect(seen).toEqual([null]);
    expect(auth.signOutReason).toBe('session_ended');
  });

  it('is not concluded from a server error: the session stays', async () => {
    const fetchImpl = vi.fn().mockResolvedValueOnce(answer(1)).mockImplementation(refusing(503, 'service_unavailable'));
    const auth = await signedIn(fetchImpl as unknown as typeof fetch);
    await expect(auth.refresh()).rejects.toMatchObject({ status: 503 });
    expect(auth.current?.access_token).toBe('a1');
    expect(auth.signOutReason).toBeNull();
  });

  it('is not concluded when the network is down: the session stays', async () => {
    const fetchImpl = vi
      .fn()
      .mockResolvedValueOnce(answer(1))
      .mockImplementation(async () => {
        throw new TypeError('Failed to fetch');
      });
    const auth = await signedIn(fetchImpl as unknown as typeof fetch);
    await expect(auth.refresh()).rejects.toBeInstanceOf(TypeError);
    expect(auth.current).not.toBeNull();
  });

  it('is forgotten by the next sign-in', async () => {
    const fetchImpl = vi.fn().mockResolvedValueOnce(answer(1)).mockImplementationOnce(refusing(401, 'invalid_refresh_token')).mockResolvedValueOnce(answer(2));
    const auth = await signedIn(fetchImpl as unknown as typeof fetch);
    await auth.refresh().catch(() => {});
    await auth.login('alice', 'pw');
    expect(auth.signOutReason).toBeNull();
  });
});

describe('signOutMessage', () => {
  it('explains a session ended from another device or by a password change', () => {
    expect(signOutMessage('session_ended')).toBe('You were signed out (this session was ended from another device or by a password change).');
  });
  it('confirms signing out everywhere', () => {
    expect(signOutMessage('logged_out_everywhere')).toBe('You signed out on every device.');
  });
  it('says nothing after a plain logout, or before anyone signed in', () => {
    expect(signOutMessage('logged_out')).toBeNull();
    expect(signOutMessage(null)).toBeNull();
  });
});

describe('logging out', () => {
  const calls = () => {
    const seen: Array<{ url: string; init?: RequestInit }> = [];
    const fetchImpl = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(url), init });
      return String(url).includes('login') ? answer(1) : new Response(null, { status: 204 });
    });
    return { seen, fetchImpl: fetchImpl as unknown as typeof fetch };
  };

  it('ends this session with the web route (which removes the cookie), its access token and no body, without a message', async () => {
    const { seen, fetchImpl } = calls();
    const auth = await signedIn(fetchImpl);
    await auth.logout();
    expect(seen).toHaveLength(2);
    expect(seen[1].url).toBe('/api/auth/web/logout');
    expect(seen[1].init?.method).toBe('POST');
    expect(new Headers(seen[1].init?.headers).get('Authorization')).toBe('Bearer a1');
    expect(seen[1].init?.body).toBeUndefined();
    expect(auth.current).toBeNull();
    expect(signOutMessage(auth.signOutReason)).toBeNull();
  });

  it('everywhere: POST /api/auth/logout-all, then signed out with "everywhere" as the reason', async () => {
    const { seen, fetchImpl } = calls();
    const auth = await signedIn(fetchImpl);
    await auth.logoutEverywhere();
    expect(seen.map((c) => c.url)).toEqual(['/api/auth/web/login', '/api/auth/logout-all']);
    expect(auth.current).toBeNull();
    expect(auth.signOutReason).toBe('logged_out_everywhere');
  });

  it('everywhere: stays signed in when the server could not do it', async () => {
    const failing = vi.fn().mockResolvedValueOnce(answer(1)).mockImplementation(refusing(503, 'service_unavailable'));
    const auth = await signedIn(failing as unknown as typeof fetch);
    await expect(auth.logoutEverywhere()).rejects.toMatchObject({ status: 503 });
    expect(auth.current).not.toBeNull();
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('17')).toBe(17_000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
  });
  it('reads an HTTP date as the time left until then (never negative)', () => {
    const now = Date.parse('2026-12-03T07:00:00Z');
    expect(parseRetryAfter('Thu, 03 Dec 2026 07:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Thu, 03 Dec 2026 06:59:00 GMT', now)).toBe(0);
  });
  it('is null when absent or unreadable', () => {
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
  });
});

describe('errorFrom', () => {
  it('keeps the code, message and field of the server error, and its Retry-After', async () => {
    const response = new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'Slow down.', field: null } }), {
      status: 429,
      headers: { 'Retry-After': '12' },
    });
    expect(await errorFrom(response)).toMatchObject({ status: 429, code: 'rate_limited', message: 'Slow down.', retryAfterMs: 12_000 });
  });
});
