// Notification levels: what a level means now (an `until` in the past is "all" again), whether a message
// notifies, the mute choices' end times, and the words for them.
import type { Conversation, Message, NotificationLevel, NotificationSettings } from '../api/types';
import { mentionsMe } from './mentions';

export const LEVELS: readonly NotificationLevel[] = ['all', 'mentions', 'nothing'];

export function levelLabel(level: NotificationLevel): string {
  return level === 'all' ? 'All messages' : level === 'mentions' ? 'Mentions only' : 'Nothing';
}

/** The level in force at `now`: a level whose `until` has passed is "all" again. */
export function effectiveLevel(n: NotificationSettings | undefined | null, now: number): NotificationLevel {
  if (!n || n.level === 'all') return 'all';
  if (n.until && Date.parse(n.until) <= now) return 'all';
  return n.level;
}

/** "Muted" in the list: anything quieter than every message. */
export function isMuted(c: Pick<Conversation, 'notifications'>, now: number): boolean {
  return effectiveLevel(c.notifications, now) !== 'all';
}

/** Whether a new message from someone else makes a notification at this level. */
export function shouldNotify(m: Message, c: Pick<Conversation, 'notifications'> | undefined, meId: number, now: number): boolean {
  if (m.sender_id === meId || m.deleted) return false;
  const level = effectiveLevel(c?.notifications, now);
  if (level === 'nothing') return false;
  if (level === 'mentions') return mentionsMe(m, meId);
  return true;
}

export type MuteFor = '1h' | '8h' | 'forever';
export const MUTE_FOR: readonly MuteFor[] = ['1h', '8h', 'forever'];

export function muteForLabel(d: MuteFor): string {
  return d === '1h' ? 'For 1 hour' : d === '8h' ? 'For 8 hours' : 'Until I turn it back';
}

/** The `until` to send for a choice: RFC 3339, or null for "until I turn it back". */
export function untilFor(d: MuteFor, now: number): string | null {
  if (d === 'forever') return null;
  return new Date(now + (d === '1h' ? 1 : 8) * 3_600_000).toISOString();
}

/** "Mentions only until 14:30" / "Nothing" — what the header menu says is in force. */
export function levelSummary(n: NotificationSettings | undefined | null, now: number, time: (d: Date) => string): string {
  const level = effectiveLevel(n, now);
  if (level === 'all' || !n) return levelLabel('all');
  return n.until ? `${levelLabel(level)} until ${time(new Date(n.until))}` : levelLabel(level);
}
