// The media token: what `<img src>` and download links add to attachment URLs (`?media_token=`), since they cannot
// send the bearer header. It expires with the access token it was asked with, so a new one is fetched whenever
// the session's access token changes (a refresh), and before the current one runs out — asking then makes the
// session refresh first, so the new token gets a whole lifetime. One request at a time (single-flight); a token
// that turns out to belong to an access token already replaced is asked for again. Components read the current
// token from `ChatState.mediaToken`.
import type { MediaToken } from '../api/types';

/** Renew this long before the media token expires. */
export const MEDIA_RENEW_EARLY_MS = 30_000;
/** Never renew sooner than this after the last time (a token with hardly any life left). */
export const MEDIA_RENEW_MIN_MS = 5_000;
/** After a failed request, try again after this long. */
export const MEDIA_RETRY_MS = 10_000;
/** A token expiring this much before the access token does was asked with an older access token. */
const STALE_SLACK_MS = 10_000;

/** How long to wait before renewing a token that expires in `expiresInSec`. */
export function renewDelayMs(expiresInSec: number): number {
  return Math.max(MEDIA_RENEW_MIN_MS, expiresInSec * 1000 - MEDIA_RENEW_EARLY_MS);
}

export interface MediaTokenDeps {
  /** POST /api/media-token (the REST client refreshes the access token first when it is about to expire). */
  fetchToken: () => Promise<MediaToken>;
  /** Epoch ms at which the session's access token expires; null when signed out. */
  accessExpiresAt: () => number | null;
  /** Called with every new access token (a refresh); returns the unsubscribe. */
  onAccessTokenChange: (fn: () => void) => () => void;
  /** The current token, or null: into the state. */
  publish: (token: string | null) => void;
  now?: () => number;
}

export class MediaTokens {
  private token: string | null = null;
  private expiresAt = 0;
  private inFlight: Promise<void> | null = null;
  private fetching = false;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private unsubscribe: (() => void) | null = null;
  private running = false;
  /** The access token expiry a stale token was last asked again for: once per access token, never a loop. */
  private reaskedFor: number | null = null;

  constructor(private readonly deps: MediaTokenDeps) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  get current(): string | null {
    return this.token;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.deps.onAccessTokenChange(() => void this.renew());
    void this.renew();
  }

  stop(): void {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.clearTimer();
  }

  /** Renews unless the current token has more than the renewal margin left (e.g. when the tab is back). */
  renewIfStale(): void {
    if (!this.token || this.expiresAt - this.now() <= MEDIA_RENEW_EARLY_MS) void this.renew();
  }

  /**
   * Fetches a new token; concurrent calls share one request. One that an access token refreshed meanwhile made
   * stale is followed by another (see fetchOnce), so a refresh during the request is not missed.
   */
  renew(): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (this.fetching) return this.inFlight ?? Promise.resolve();
    this.clearTimer();
    this.again = false;
    // Set before the request starts: a refresh it sets off synchronously must find it in flight.
    this.fetching = true;
    this.inFlight = this.fetchOnce().finally(() => {
      this.fetching = false;
      this.inFlight = null;
      if (this.again && this.running) void this.renew();
    });
    return this.inFlight;
  }

  private async fetchOnce(): Promise<void> {
    let t: MediaToken;
    try {
      t = await this.deps.fetchToken();
    } catch {
      if (this.running) this.schedule(MEDIA_RETRY_MS);
      return;
    }
    if (!this.running) return;
    this.token = t.token;
    this.expiresAt = this.now() + t.expires_in * 1000;
    this.deps.publish(t.token);
    // Asked with an access token that has been replaced meanwhile: it would expire early, so ask again now.
    const access = this.deps.accessExpiresAt();
    if (access !== null && access - this.expiresAt > STALE_SLACK_MS && this.reaskedFor !== access) {
      this.reaskedFor = access;
      this.again = true;
    }
    this.schedule(renewDelayMs(t.expires_in));
  }

  private schedule(ms: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.renew();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
