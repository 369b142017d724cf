import { describe, expect, it, vi } from 'vitest';
import { Auth, errorFrom, parseRetryAfter } from './auth';

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
