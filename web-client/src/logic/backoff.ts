// Reconnect timing: exponential backoff with full jitter, and what each close code asks of the client.

export interface BackoffOptions {
  /** Delay ceiling of the first retry, ms. */
  baseMs: number;
  /** Largest ceiling, ms. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/**
 * "Full jitter": a uniformly random delay in [0, min(cap, base·2^attempt)). Spreads a crowd of clients
 * reconnecting after a restart instead of having them arrive in waves.
 */
export function fullJitterDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(opts.capMs, opts.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  return Math.floor(random() * exp);
}

export type CloseAction =
  /** Refresh the access token first, then reconnect at once. */
  | { kind: 'refresh' }
  /** Reconnect after a delay (ms) computed by the caller's backoff, at least `minDelayMs`. */
  | { kind: 'backoff'; minDelayMs: number; resetAttempts: boolean };

/** What to do after the socket closed with `code` (PROTOCOL.md, "Close codes"). */
export function closeAction(code: number): CloseAction {
  switch (code) {
    case 4001: // token expired or revoked
      return { kind: 'refresh' };
    case 1001: // server going away: reconnect now, with jitter
    case 1012: // service restart
      return { kind: 'backoff', minDelayMs: 0, resetAttempts: true };
    case 4008: // too slow: reconnect and catch up
      return { kind: 'backoff', minDelayMs: 0, resetAttempts: false };
    case 4029: // flooding: back off before reconnecting
      return { kind: 'backoff', minDelayMs: 5_000, resetAttempts: false };
    default: // 1006 (no connection / dropped), 1011, anything else
      return { kind: 'backoff', minDelayMs: 0, resetAttempts: false };
  }
}

/** Attempt counter + delay computation in one place, so the socket code stays about sockets. */
export class Backoff {
  attempt = 0;
  constructor(
    private readonly opts: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; advances the counter. */
  next(minDelayMs = 0): number {
    const delay = fullJitterDelay(this.attempt, this.opts, this.random);
    this.attempt += 1;
    return Math.max(minDelayMs, delay);
  }

  reset(): void {
    this.attempt = 0;
  }
}
