// Unread counts, the tab title, conversation ordering and the read-tick state of own messages.
import type { Conversation, Message } from '../api/types';
import { mentionsMe } from './mentions';

export function totalUnread(conversations: Iterable<Pick<Conversation, 'unread_count'>>): number {
  let total = 0;
  for (const c of conversations) total += Math.max(0, c.unread_count);
  return total;
}

export function tabTitle(total: number, base = 'Chat'): string {
  return total > 0 ? `(${total > 999 ? '999+' : total}) ${base}` : base;
}

/** When a conversation last saw activity: its newest message, else its creation. */
export function activityTime(c: Conversation): number {
  return Date.parse(c.last_message?.created_at ?? c.created_at);
}

/** Most recent activity first; ties broken by id so the order is stable. */
export function sortByActivity(conversations: Iterable<Conversation>): Conversation[] {
  return [...conversations].sort((a, b) => activityTime(b) - activityTime(a) || b.id - a.id);
}

/**
 * A conversation after a new stored message: last_message/last_seq advance (never go back); unread follows
 * last_seq − last_read_seq. The reader's own messages count as read by them.
 */
export function withNewMessage(c: Conversation, m: Message, myId: number): Conversation {
  if (m.conversation_id !== c.id) return c;
  const lastSeq = Math.max(c.last_seq, m.seq);
  const isNewest = !c.last_message || m.seq >= c.last_message.seq;
  const lastRead = m.sender_id === myId ? Math.max(c.last_read_seq, m.seq) : c.last_read_seq;
  const unread = Math.max(0, lastSeq - lastRead);
  // An unread message that mentions me counts in the @ badge; my own sending reads everything before it.
  const mentioned = m.sender_id !== myId && m.seq > lastRead && mentionsMe(m, myId) ? 1 : 0;
  const next: Conversation = {
    ...c,
    last_seq: lastSeq,
    last_read_seq: lastRead,
    unread_count: unread,
    last_message: isNewest ? m : c.last_message,
  };
  if (c.mention_count !== undefined || mentioned) next.mention_count = unread === 0 ? 0 : (c.mention_count ?? 0) + mentioned;
  return next;
}

/** A conversation after the reader's read position moved (never backwards). */
export function withReadUpTo(c: Conversation, upToSeq: number): Conversation {
  const lastRead = Math.max(c.last_read_seq, upToSeq);
  if (lastRead === c.last_read_seq) return c;
  const lastSeq = Math.max(c.last_seq, lastRead);
  const unread = Math.max(0, lastSeq - lastRead);
  const next: Conversation = { ...c, last_seq: lastSeq, last_read_seq: lastRead, unread_count: unread };
  // Read to the end: no unread mention is left. Part-way, the server's answer says how many are.
  if (unread === 0 && c.mention_count) next.mention_count = 0;
  return next;
}

/** The reader's own unread mention count as the server told it (`unread` frame, a read's answer). */
export function withMentionCount(c: Conversation, mentions: number | undefined): Conversation {
  if (mentions === undefined || mentions === c.mention_count) return c;
  return { ...c, mention_count: Math.max(0, mentions) };
}

/** A conversation after the server told the reader's own unread count (an `unread` frame). */
export function withUnreadCount(c: Conversation, unread: number): Conversation {
  if (unread === c.unread_count) return c;
  const next: Conversation = { ...c, unread_count: Math.max(0, unread), last_read_seq: Math.max(0, c.last_seq - unread) };
  if (unread <= 0 && c.mention_count) next.mention_count = 0;
  return next;
}

export type Tick = 'pending' | 'failed' | 'sent' | 'delivered' | 'read';

/**
 * ✓ sent, ✓✓ delivered or ✓✓ read for an own stored message: read once every other member has read up to its
 * seq, delivered once every other member's clients have received it (reading it implies that). `readUpTo` and
 * `deliveredUpTo` hold the positions we know of, by user id.
 */
export function tickFor(
  seq: number,
  otherMemberIds: readonly number[],
  readUpTo: Readonly<Record<number, number>>,
  deliveredUpTo: Readonly<Record<number, number>> = {},
): Tick {
  if (otherMemberIds.length === 0) return 'sent';
  if (otherMemberIds.every((id) => (readUpTo[id] ?? 0) >= seq)) return 'read';
  if (otherMemberIds.every((id) => Math.max(readUpTo[id] ?? 0, deliveredUpTo[id] ?? 0) >= seq)) return 'delivered';
  return 'sent';
}

/** In a group, the other members who have read up to `seq` (by display name, in member order): "seen by". */
export function seenBy(seq: number, others: readonly { id: number; name: string }[], readUpTo: Readonly<Record<number, number>>): string[] {
  return others.filter((o) => (readUpTo[o.id] ?? 0) >= seq).map((o) => o.name);
}

/** Where the unread line goes when a conversation is opened: after what was read, when anything is unread. */
export function unreadMarkerFor(c: Pick<Conversation, 'id' | 'unread_count' | 'last_read_seq' | 'last_seq'>): { conversationId: number; afterSeq: number; count: number } | null {
  if (c.unread_count <= 0 || c.last_read_seq >= c.last_seq) return null;
  return { conversationId: c.id, afterSeq: c.last_read_seq, count: c.unread_count };
}
