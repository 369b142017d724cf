import { describe, expect, it, vi } from 'vitest';
import { Auth, errorFrom, parseRetryAfter, signOutMessage } from './auth';

class MemoryStorage {
  private m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

const user = { id: 7, username: 'alice', display_name: 'Alice' };
const session = (n: number, expires_in = 900) => ({ user, session_id: 1, access_token: `a${n}`, refresh_token: `r${n}`, expires_in });

function setup(now = 1_000_000) {
  const storage = new MemoryStorage() as unknown as Storage;
  let n = 1;
  const fetchImpl = vi.fn(async (_url: string | URL | Request, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body));
    if (body.refresh_token !== `r${n}`) return new Response(JSON.stringify({ error: { code: 'invalid_token', message: 'Spent.' } }), { status: 401 });
    n += 1;
    return new Response(JSON.stringify(session(n)), { status: 200 });
  });
  const clock = { now };
  const auth = new Auth(storage, fetchImpl as unknown as typeof fetch, () => clock.now);
  return { auth, storage, fetchImpl, clock };
}

describe('Auth', () => {
  it('keeps the session in the given storage and reads it back', () => {
    const { auth, storage } = setup();
    auth.adopt(session(1));
    expect(new Auth(storage).current?.access_token).toBe('a1');
  });

  it('hands out the token as is while it is fresh, refreshes within a minute of expiry', async () => {
    const { auth, fetchImpl, clock } = setup();
    auth.adopt(session(1, 900));
    expect(await auth.token()).toBe('a1');
    clock.now += 850_000;
    expect(await auth.token()).toBe('a2');
    expect(fetchImpl).toHaveBeenCalledTimes(1);
  });

  it('spends the refresh token once even when many callers refresh at the same time', async () => {
    const { auth, fetchImpl } = setup();
    auth.adopt(session(1));
    const tokens = await Promise.all([auth.refresh(), auth.refresh(), auth.refresh()]);
    expect(tokens).toEqual(['a2', 'a2', 'a2']);
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    expect(auth.current?.refresh_token).toBe('r2');
  });

  it('logs out when the server refuses the refresh token', async () => {
    const { auth, storage } = setup();
    auth.adopt({ ...session(1), refresh_token: 'stolen-and-spent' });
    const seen: unknown[] = [];
    auth.subscribe((s) => seen.push(s));
    await expect(auth.refresh()).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
    expect(auth.current).toBeNull();
    expect(storage.getItem('chat.session')).toBeNull();
    expect(seen).toEqual([null]);
  });
});

describe('a session ended elsewhere', () => {
  const refusing = (status: number, code: string) =>
    vi.fn(async () => new Response(JSON.stringify({ error: { code, message: 'No.' } }), { status }));

  it('is told apart from a logout: a refused refresh (401) signs out with the reason "session_ended"', async () => {
    const auth = new Auth(new MemoryStorage() as unknown as Storage, refusing(401, 'invalid_refresh_token') as unknown as typeof fetch);
    auth.adopt(session(1));
    await expect(auth.refresh()).rejects.toMatchObject({ status: 401 });
    expect(auth.current).toBeNull();
    expect(auth.signOutReason).toBe('session_ended');
  });

  it('is what a reused refresh token means too', async () => {
    const auth = new Auth(new MemoryStorage() as unknown as Storage, refusing(401, 'refresh_token_reused') as unknown as typeof fetch);
    auth.adopt(session(1));
    await expect(auth.refresh()).rejects.toMatchObject({ code: 'refresh_token_reused' });
    expect(auth.signOutReason).toBe('session_ended');
  });

  it('is not concluded from a server error: the session stays', async () => {
    const auth = new Auth(new MemoryStorage() as unknown as Storage, refusing(503, 'service_unavailable') as unknown as typeof fetch);
    auth.adopt(session(1));
    await expect(auth.refresh()).rejects.toMatchObject({ status: 503 });
    expect(auth.current?.access_token).toBe('a1');
    expect(auth.signOutReason).toBeNull();
  });

  it('is not concluded when the network is down: the session stays', async () => {
    const offline = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    const auth = new Auth(new MemoryStorage() as unknown as Storage, offline as unknown as typeof fetch);
    auth.adopt(session(1));
    await expect(auth.refresh()).rejects.toBeInstanceOf(TypeError);
    expect(auth.current).not.toBeNull();
  });

  it('is forgotten by the next sign-in', async () => {
    const auth = new Auth(new MemoryStorage() as unknown as Storage, refusing(401, 'invalid_refresh_token') as unknown as typeof fetch);
    auth.adopt(session(1));
    await auth.refresh().catch(() => {});
    auth.adopt(session(2));
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
      return new Response(null, { status: 204 });
    });
    return { seen, fetchImpl: fetchImpl as unknown as typeof fetch };
  };

  it('ends this session on the server with its access token and no body, and forgets it without a message', async () => {
    const { seen, fetchImpl } = calls();
    const auth = new Auth(new MemoryStorage() as unknown as Storage, fetchImpl);
    auth.adopt(session(1));
    await auth.logout();
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe('/api/auth/logout');
    expect(seen[0].init?.method).toBe('POST');
    expect(new Headers(seen[0].init?.headers).get('Authorization')).toBe('Bearer a1');
    expect(seen[0].init?.body).toBeUndefined();
    expect(auth.current).toBeNull();
    expect(signOutMessage(auth.signOutReason)).toBeNull();
  });

  it('everywhere: POST /api/auth/logout-all, then signed out with "everywhere" as the reason', async () => {
    const { seen, fetchImpl } = calls();
    const auth = new Auth(new MemoryStorage() as unknown as Storage, fetchImpl);
    auth.adopt(session(1));
    await auth.logoutEverywhere();
    expect(seen.map((c) => c.url)).toEqual(['/api/auth/logout-all']);
    expect(auth.current).toBeNull();
    expect(auth.signOutReason).toBe('logged_out_everywhere');
  });

  it('everywhere: stays signed in when the server could not do it', async () => {
    const failing = vi.fn(async () => new Response(JSON.stringify({ error: { code: 'service_unavailable', message: 'Later.' } }), { status: 503 }));
    const auth = new Auth(new MemoryStorage() as unknown as Storage, failing as unknown as typeof fetch);
    auth.adopt(session(1));
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
