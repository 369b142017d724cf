// Reconnect timing: exponential backoff with full jitter, and what each close code asks of the client.

export interface BackoffOptions {
  /** Delay ceiling of the first retry, ms. */
  baseMs: number;
  /** Largest ceiling, ms. */
  capMs: number;
}

// A chat is useless while disconnected: after a long outage the wait is never more than 5 s (full jitter keeps
// a crowd of clients spread over that window), and focus or the network coming back skips it altogether.
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 5_000 };

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

/**
 * Why the server would not issue a socket ticket (`POST /api/ws-ticket`). The ticket request is where the
 * server answers the refusals of an upgrade, because a browser cannot read why an upgrade failed.
 */
export interface TicketRefusal {
  status: number;
  code: string;
  /** The server's Retry-After, ms (null when absent). */
  retryAfterMs: number | null;
}

export type WaitReason = 'too_many_sockets' | 'rate_limited';

export type TicketAction =
  /** Wait at least this long, and tell the user why: retrying sooner is refused anyway. */
  | { kind: 'wait'; reason: WaitReason; delayMs: number }
  /** A passing problem (offline, 5xx, 401 while the session is refreshed): the usual backoff. */
  | { kind: 'backoff'; minDelayMs: number };

/**
 * The socket cap frees up only when the user closes a tab or a device drops off, which takes minutes rather
 * than seconds: poll slowly, spread over a window so that many refused tabs do not come back together.
 */
export const TOO_MANY_SOCKETS_RETRY = { minMs: 30_000, maxMs: 60_000 };
/** A 429 that did not say how long to wait. */
export const RATE_LIMITED_FALLBACK_MS = 10_000;

/** What to do when getting a ticket failed; `null` is a failure without an answer (network down). */
export function ticketAction(refusal: TicketRefusal | null, random: () => number = Math.random): TicketAction {
  if (!refusal) return { kind: 'backoff', minDelayMs: 0 };
  if (refusal.status === 429 && refusal.code === 'too_many_sockets') {
    const { minMs, maxMs } = TOO_MANY_SOCKETS_RETRY;
    return { kind: 'wait', reason: 'too_many_sockets', delayMs: minMs + Math.floor(random() * (maxMs - minMs)) };
  }
  if (refusal.status === 429) {
    const base = refusal.retryAfterMs ?? RATE_LIMITED_FALLBACK_MS;
    // Never earlier than asked; a little later at random, so tabs refused together spread out.
    const spread = Math.min(5_000, Math.max(1_000, base / 4));
    return { kind: 'wait', reason: 'rate_limited', delayMs: base + Math.floor(random() * spread) };
  }
  // 503 (database away, hashing queue full) may say when to come back; anything else backs off as usual.
  return { kind: 'backoff', minDelayMs: refusal.retryAfterMs ?? 0 };
}
