// What the tabs of one browser tell each other about the session they share through its cookie. The cookie's
// refresh token is spent by one refresh, and the server ends the whole session when a spent one is presented
// again, so refreshes run under one Web Lock and the tab that refreshed hands the new access token to the others
// (BroadcastChannel: same origin, in memory, never stored). A starting tab asks for the token before it spends
// the cookie, and a logout or an ended session signs every tab out.
import type { HeldSession, SignOutReason } from './auth';

export type TabNews =
  /** A new access token (a refresh, or a sign-in: the cookie is now that session's). */
  | { type: 'session'; session: HeldSession }
  | { type: 'signed_out'; reason: SignOutReason }
  /** A starting tab would like the session, if some tab holds a fresh one. */
  | { type: 'ask' };

export interface TabSync {
  /** Runs `fn` while no other tab of this origin refreshes. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Tells the other tabs (never this one). */
  tell(news: TabNews): void;
  /** Calls `fn` with what the other tabs tell; returns the unsubscribe. */
  subscribe(fn: (news: TabNews) => void): () => void;
}

const LOCK = 'chat.auth.refresh';
const CHANNEL = 'chat.auth';
/** The lock is held this much longer after telling, so a waiting tab hears the news before it may refresh. */
const HANDOVER_MS = 150;

/** The browser's TabSync; null where the APIs are missing (then each tab refreshes on its own). */
export function browserTabSync(): TabSync | null {
  if (typeof BroadcastChannel === 'undefined' || typeof navigator === 'undefined' || !navigator.locks) return null;
  const channel = new BroadcastChannel(CHANNEL);
  return {
    exclusive: <T,>(fn: () => Promise<T>) =>
      navigator.locks.request(LOCK, async () => {
        try {
          return await fn();
        } finally {
          await new Promise((r) => setTimeout(r, HANDOVER_MS));
        }
      }) as Promise<T>,
    tell: (news) => channel.postMessage(news),
    subscribe(fn) {
      const onMessage = (e: MessageEvent<TabNews>) => {
        if (typeof e.data?.type === 'string') fn(e.data);
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
