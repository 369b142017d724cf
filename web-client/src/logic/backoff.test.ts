import { describe, expect, it } from 'vitest';
import { Backoff, closeAction, DEFAULT_BACKOFF, fullJitterDelay, ticketAction } from './backoff';

const opts = { baseMs: 500, capMs: 30_000 };

describe('fullJitterDelay', () => {
  it('is uniform in [0, base·2^attempt)', () => {
    expect(fullJitterDelay(0, opts, () => 0)).toBe(0);
    expect(fullJitterDelay(0, opts, () => 0.999)).toBe(499);
    expect(fullJitterDelay(3, opts, () => 0.5)).toBe(2000); // ceiling 4000
  });
  it('never exceeds the cap, however many attempts', () => {
    expect(fullJitterDelay(10, opts, () => 0.999999)).toBeLessThan(30_000);
    expect(fullJitterDelay(1000, opts, () => 0.999999)).toBeLessThan(30_000);
    expect(Number.isFinite(fullJitterDelay(1e9, opts, () => 0.5))).toBe(true);
  });
  it('spreads real random delays over the whole window', () => {
    const samples = Array.from({ length: 2000 }, () => fullJitterDelay(4, opts));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(8000);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    expect(mean).toBeGreaterThan(3000);
    expect(mean).toBeLessThan(5000);
  });
});

describe('Backoff', () => {
  it('doubles the ceiling per attempt and starts over after reset', () => {
    const b = new Backoff(opts, () => 0.999);
    const delays = [b.next(), b.next(), b.next(), b.next()];
    expect(delays).toEqual([499, 999, 1998, 3996]);
    expect(b.attempt).toBe(4);
    b.reset();
    expect(b.next()).toBe(499);
  });
  it('honours a minimum delay', () => {
    const b = new Backoff(opts, () => 0);
    expect(b.next(5000)).toBe(5000);
  });
});

describe('closeAction', () => {
  it('refreshes the token on 4001', () => {
    expect(closeAction(4001)).toEqual({ kind: 'refresh' });
  });
  it('reconnects at once (with jitter) on 1001, starting the backoff over', () => {
    expect(closeAction(1001)).toEqual({ kind: 'backoff', minDelayMs: 0, resetAttempts: true });
  });
  it('backs off at least 5 s on 4029 flooding', () => {
    const a = closeAction(4029);
    expect(a.kind === 'backoff' && a.minDelayMs).toBe(5000);
  });
  it('uses the plain backoff for a dropped connection and for 4008', () => {
    expect(closeAction(1006)).toEqual({ kind: 'backoff', minDelayMs: 0, resetAttempts: false });
    expect(closeAction(4008)).toEqual({ kind: 'backoff', minDelayMs: 0, resetAttempts: false });
  });
});

describe('ticketAction', () => {
  const tooMany = { status: 429, code: 'too_many_sockets', retryAfterMs: null };
  const limited = (retryAfterMs: number | null) => ({ status: 429, code: 'rate_limited', retryAfterMs });

  it('waits 30 to 60 s when the account holds the most sockets allowed, whatever the random draw', () => {
    expect(ticketAction(tooMany, () => 0)).toEqual({ kind: 'wait', reason: 'too_many_sockets', delayMs: 30_000 });
    const late = ticketAction(tooMany, () => 0.999999);
    expect(late.kind === 'wait' && late.delayMs).toBeLessThan(60_000);
    expect(late.kind === 'wait' && late.delayMs).toBeGreaterThan(59_000);
  });

  it('spreads refused tabs over the whole window instead of bringing them back together', () => {
    const delays = Array.from({ length: 500 }, () => {
      const a = ticketAction(tooMany);
      return a.kind === 'wait' ? a.delayMs : -1;
    });
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(30_000);
    expect(Math.max(...delays)).toBeLessThan(60_000);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(20_000);
  });

  it('never retries before Retry-After when upgrades come too fast', () => {
    expect(ticketAction(limited(20_000), () => 0)).toEqual({ kind: 'wait', reason: 'rate_limited', delayMs: 20_000 });
    const a = ticketAction(limited(20_000), () => 0.999);
    expect(a.kind === 'wait' && a.delayMs).toBeGreaterThanOrEqual(20_000);
    expect(a.kind === 'wait' && a.delayMs).toBeLessThan(25_001);
  });

  it('waits a fixed 10 s when a 429 does not say how long', () => {
    expect(ticketAction(limited(null), () => 0)).toEqual({ kind: 'wait', reason: 'rate_limited', delayMs: 10_000 });
  });

  it('backs off as usual when the network is down (no answer at all)', () => {
    expect(ticketAction(null)).toEqual({ kind: 'backoff', minDelayMs: 0 });
  });

  it('backs off as usual on a server error, but not before its Retry-After', () => {
    expect(ticketAction({ status: 503, code: 'service_unavailable', retryAfterMs: null })).toEqual({ kind: 'backoff', minDelayMs: 0 });
    expect(ticketAction({ status: 503, code: 'busy', retryAfterMs: 3_000 })).toEqual({ kind: 'backoff', minDelayMs: 3_000 });
  });
});

describe('the default backoff', () => {
  it('never waits more than 5 s, however long the outage', () => {
    const b = new Backoff(DEFAULT_BACKOFF, () => 0.999999);
    let longest = 0;
    for (let i = 0; i < 40; i++) longest = Math.max(longest, b.next());
    expect(longest).toBeLessThan(5_000);
    expect(longest).toBeGreaterThan(4_000);
  });
});
