import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MediaToken } from '../api/types';
import { MEDIA_RENEW_EARLY_MS, MEDIA_RENEW_MIN_MS, MEDIA_RETRY_MS, MediaTokens, renewDelayMs } from './media';

/** A media token holder over a fake POST /api/media-token; the access token expires at `access.expiresAt`. */
function setup(answers: Array<MediaToken | Error | (() => Promise<MediaToken>)>) {
  const published: Array<string | null> = [];
  const listeners = new Set<() => void>();
  const access = { expiresAt: Date.now() + 900_000 as number | null };
  let n = 0;
  const fetchToken = vi.fn(async () => {
    const a = answers[Math.min(n, answers.length - 1)];
    n += 1;
    if (a instanceof Error) throw a;
    return typeof a === 'function' ? a() : a;
  });
  const media = new MediaTokens({
    fetchToken,
    accessExpiresAt: () => access.expiresAt,
    onAccessTokenChange: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    publish: (t) => published.push(t),
  });
  const refreshAccess = (lifetimeMs = 900_000) => {
    access.expiresAt = Date.now() + lifetimeMs;
    for (const l of listeners) l();
  };
  return { media, fetchToken, published, refreshAccess, access, listeners };
}

const tok = (token: string, expires_in = 900): MediaToken => ({ token, expires_in });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('renewDelayMs', () => {
  it('renews 30 s before the token expires', () => {
    expect(renewDelayMs(900)).toBe(900_000 - MEDIA_RENEW_EARLY_MS);
  });
  it('waits at least 5 s for a token with hardly any life left (or none)', () => {
    expect(renewDelayMs(20)).toBe(MEDIA_RENEW_MIN_MS);
    expect(renewDelayMs(0)).toBe(MEDIA_RENEW_MIN_MS);
  });
});

describe('MediaTokens', () => {
  it('fetches a token on start and hands it to the state', async () => {
    const { media, fetchToken, published } = setup([tok('m1')]);
    media.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    expect(published).toEqual(['m1']);
    expect(media.current).toBe('m1');
  });

  it('renews 30 s before expiry, not earlier', async () => {
    const { media, fetchToken, published, refreshAccess } = setup([tok('m1'), tok('m2')]);
    media.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(900_000 - MEDIA_RENEW_EARLY_MS - 1);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    // The REST client refreshes the access token first (it is within a minute of expiry): the new one is whole.
    fetchToken.mockImplementationOnce(async () => (refreshAccess(), tok('m2')));
    await vi.advanceTimersByTimeAsync(1);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect(published.at(-1)).toBe('m2');
  });

  it('fetches a new one when the access token is refreshed, and reschedules from it', async () => {
    const { media, fetchToken, published, refreshAccess } = setup([tok('m1'), tok('m2')]);
    media.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(600_000);
    refreshAccess();
    await vi.advanceTimersByTimeAsync(0);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect(published).toEqual(['m1', 'm2']);
    // The old timer (at 870 s) is gone: the next renewal is 870 s after the refresh.
    await vi.advanceTimersByTimeAsync(300_000);
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  it('is single-flight: calls during a request share it', async () => {
    let release!: (t: MediaToken) => void;
    const slow = () => new Promise<MediaToken>((r) => (release = r));
    const { media, fetchToken } = setup([slow, tok('m2')]);
    media.start();
    const a = media.renew();
    const b = media.renew();
    expect(fetchToken).toHaveBeenCalledTimes(1);
    release(tok('m1'));
    await Promise.all([a, b]);
    await vi.advanceTimersByTimeAsync(0);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    expect(media.current).toBe('m1');
  });

  it('asks once more when the access token was refreshed during the request (its answer expires early)', async () => {
    let release!: (t: MediaToken) => void;
    const slow = () => new Promise<MediaToken>((r) => (release = r));
    const { media, fetchToken, refreshAccess, access } = setup([slow, tok('m2')]);
    access.expiresAt = Date.now() + 40_000;
    media.start();
    refreshAccess();
    expect(fetchToken).toHaveBeenCalledTimes(1);
    release(tok('m1', 40));
    await vi.advanceTimersByTimeAsync(0);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect(media.current).toBe('m2');
  });

  it('asks again once when the token it got belongs to an access token already replaced', async () => {
    const { media, fetchToken, access } = setup([tok('old', 60), tok('new', 900), tok('again', 60)]);
    access.expiresAt = Date.now() + 900_000;
    media.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect(media.current).toBe('new');
  });

  it('never loops when the server hands out shorter tokens than the access token lives', async () => {
    const { media, fetchToken } = setup([tok('short', 300)]);
    media.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  it('tries again 10 s after a failed request, keeping the token it had', async () => {
    const { media, fetchToken, published } = setup([new TypeError('offline'), tok('m1')]);
    media.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(published).toEqual([]);
    await vi.advanceTimersByTimeAsync(MEDIA_RETRY_MS);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect(published).toEqual(['m1']);
  });

  it('renews on return only when the token is close to expiry', async () => {
    const { media, fetchToken } = setup([tok('m1'), tok('m2')]);
    media.start();
    await vi.advanceTimersByTimeAsync(0);
    media.renewIfStale();
    expect(fetchToken).toHaveBeenCalledTimes(1);
    vi.setSystemTime(Date.now() + 880_000); // a sleeping tab: the timer did not fire
    media.renewIfStale();
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  it('stops renewing and listening when stopped', async () => {
    const { media, fetchToken, refreshAccess, listeners } = setup([tok('m1')]);
    media.start();
    await vi.advanceTimersByTimeAsync(0);
    media.stop();
    refreshAccess();
    await vi.advanceTimersByTimeAsync(2_000_000);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    expect(listeners.size).toBe(0);
  });
});
