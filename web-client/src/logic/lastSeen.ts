// "Last seen" (issue 15): when someone's last socket closed, in the words a chat header uses. The server tells it
// only for people who share a conversation with the reader and never across a block; absent means we do not know.
import type { User } from '../api/types';
import { clockTime, daysBetween } from './days';

export type LastSeen = Readonly<Record<number, string>>;

/** "last seen just now" / "5 min ago" / "today at 09:15" / "yesterday at 14:02" / "Monday at 14:02" / "3 Dec". */
export function lastSeenText(iso: string, now: Date, locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return 'offline';
  const minutes = Math.floor((now.getTime() - date.getTime()) / 60_000);
  // A clock a little ahead of ours reads as "just now", never "in 2 min".
  if (minutes < 1) return 'last seen just now';
  if (minutes < 60) return `last seen ${minutes} min ago`;
  const days = daysBetween(date, now);
  const at = clockTime(date, locale);
  if (days <= 0) return `last seen today at ${at}`;
  if (days === 1) return `last seen yesterday at ${at}`;
  if (days < 7) return `last seen ${date.toLocaleDateString(locale, { weekday: 'long' })} at ${at}`;
  const sameYear = date.getFullYear() === now.getFullYear();
  return `last seen ${date.toLocaleDateString(locale, { day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }) })}`;
}

/** A direct chat header's line about the peer; null when their presence is unknown (the header shows @username). */
export function peerStatus(online: boolean | undefined, lastSeenAt: string | undefined, now: Date, locale?: string): string | null {
  if (online === undefined) return null;
  if (online) return 'online';
  return lastSeenAt ? lastSeenText(lastSeenAt, now, locale) : 'offline';
}

/** The `last_seen_at` a user object carries (REST answers, `user` frames), undefined when it says nothing. */
export function lastSeenAtOf(user: Pick<User, 'id'>): string | undefined {
  const t = (user as { last_seen_at?: unknown }).last_seen_at;
  return typeof t === 'string' ? t : undefined;
}

/** `lastSeen` updated with what these users say; the same object when nothing changed. */
export function withLastSeenOf(lastSeen: LastSeen, users: Iterable<Pick<User, 'id'>>): LastSeen {
  let next: Record<number, string> | null = null;
  for (const u of users) {
    const t = lastSeenAtOf(u);
    if (t === undefined || lastSeen[u.id] === t) continue;
    next ??= { ...lastSeen };
    next[u.id] = t;
  }
  return next ?? lastSeen;
}
