// Refreshes shared by the tabs of one browser. A refresh token is spent by one refresh, and the server ends the
// whole session when a spent one is presented again, so two tabs holding the same session (a duplicated tab, a
// session handed over) must never both spend it: refreshes run under one Web Lock, the tab that refreshed
// tells the others the new tokens (BroadcastChannel), and leaves a marker that the old token is spent — only
// a short fingerprint of it, never a token, goes to localStorage.
import type { StoredSession } from './auth';

export interface TabSync {
  /** Runs `fn` while no other tab of this origin refreshes. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Tells the other tabs that `spent` was exchanged for `next`. */
  publish(spent: string, next: StoredSession): void;
  /** Whether some tab has already spent this refresh token. */
  wasSpent(refreshToken: string): boolean;
  /** Calls `fn` with what other tabs publish; returns the unsubscribe. */
  subscribe(fn: (spent: string, next: StoredSession) => void): () => void;
}

/** A short, non-reversible tag of a token: enough to recognise it, useless to present to the server. */
export function fingerprint(token: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    h ^= token.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16) + ':' + token.length;
}

const LOCK = 'chat.auth.refresh';
const CHANNEL = 'chat.auth';
const SPENT_KEY = 'chat.auth.spent';
/** Spent markers older than this are dropped: every tab that held the token has heard of it by then. */
const SPENT_TTL_MS = 10 * 60_000;
/** The lock is held this much longer after publishing, so a waiting tab hears the news before it may refresh. */
const HANDOVER_MS = 150;

type Wire = { type: 'rotated'; spent: string; next: StoredSession };

/** The browser's TabSync; null where the APIs are missing (then each tab refreshes on its own, as before). */
export function browserTabSync(): TabSync | null {
  if (typeof BroadcastChannel === 'undefined' || typeof navigator === 'undefined' || !navigator.locks) return null;
  const channel = new BroadcastChannel(CHANNEL);
  const readSpent = (): Record<string, number> => {
    try {
      return JSON.parse(localStorage.getItem(SPENT_KEY) ?? '{}') as Record<string, number>;
    } catch {
      return {};
    }
  };
  return {
    exclusive: <T,>(fn: () => Promise<T>) =>
      navigator.locks.request(LOCK, async () => {
        const result = await fn();
        await new Promise((r) => setTimeout(r, HANDOVER_MS));
        return result;
      }) as Promise<T>,
    publish(spent, next) {
      const now = Date.now();
      const marks = Object.fromEntries(Object.entries(readSpent()).filter(([, at]) => now - at < SPENT_TTL_MS));
      marks[fingerprint(spent)] = now;
      try {
        localStorage.setItem(SPENT_KEY, JSON.stringify(marks));
      } catch {
        /* storage disabled: the lock and the message still do the work */
      }
      channel.postMessage({ type: 'rotated', spent: fingerprint(spent), next } satisfies Wire);
    },
    wasSpent: (refreshToken) => fingerprint(refreshToken) in readSpent(),
    subscribe(fn) {
      const onMessage = (e: MessageEvent<Wire>) => {
        if (e.data?.type === 'rotated') fn(e.data.spent, e.data.next);
      };
      channel.addEventListener('message', onMessage);
      return () => channel.removeEventListener('message', onMessage);
    },
  };
}

/** The early-refresh margin: a minute for long lifetimes, a fifth of it for short ones (never a loop). */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.max(0, Math.min(60_000, lifetimeMs / 5));
}
