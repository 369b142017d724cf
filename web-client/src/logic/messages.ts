// Merging message lists from every source (history pages, catch-up after reconnect, live frames, acks) into
// one list ordered by seq, with each seq once. seq is per conversation, gapless and never reused (PROTOCOL.md),
// so it is the identity of a stored message.
import type { Attachment, Message, ReplyPreview } from '../api/types';

/** Which of two copies of the same stored message is the more recent state (edits and deletes win). */
function newer(a: Message, b: Message): Message {
  if (a.deleted !== b.deleted) return a.deleted ? a : b;
  const ae = a.edited_at ? Date.parse(a.edited_at) : 0;
  const be = b.edited_at ? Date.parse(b.edited_at) : 0;
  return be >= ae ? b : a;
}

/**
 * `existing` and `incoming` merged, ascending by seq, one entry per seq. When both hold a seq, the edited or
 * deleted state wins (then the incoming copy). Returns `existing` itself when nothing changed, so callers
 * can skip re-rendering.
 */
export function mergeMessages(existing: readonly Message[], incoming: readonly Message[]): readonly Message[] {
  if (incoming.length === 0) return existing;
  const bySeq = new Map<number, Message>();
  for (const m of existing) bySeq.set(m.seq, m);
  let changed = false;
  for (const m of incoming) {
    const have = bySeq.get(m.seq);
    if (!have) {
      bySeq.set(m.seq, m);
      changed = true;
      continue;
    }
    const pick = newer(have, m);
    if (pick !== have && !sameMessage(pick, have)) {
      bySeq.set(m.seq, pick);
      changed = true;
    }
  }
  if (!changed) return existing;
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function sameMessage(a: Message, b: Message): boolean {
  return (
    a.body === b.body &&
    a.deleted === b.deleted &&
    a.edited_at === b.edited_at &&
    // Reactions and a quote's excerpt change without an edit of the message itself.
    JSON.stringify(a.reactions ?? []) === JSON.stringify(b.reactions ?? []) &&
    JSON.stringify(a.reply_to ?? null) === JSON.stringify(b.reply_to ?? null)
  );
}

/** Whether the list holds this seq. */
export function holdsSeq(messages: readonly Message[], seq: number): boolean {
  return messages.some((m) => m.seq === seq);
}

/** Highest seq held, 0 for none. */
export function lastSeq(messages: readonly Message[]): number {
  return messages.length ? messages[messages.length - 1].seq : 0;
}

/**
 * Seq after which a catch-up fetch must start for the list to be gapless up to `upTo`, or null when the list
 * already holds every seq in (its first seq, upTo]. A list that is empty has no gap: its history is
 * loaded lazily by paging.
 */
export function catchUpFrom(messages: readonly Message[], upTo: number): number | null {
  if (messages.length === 0) return null;
  let expected = messages[0].seq;
  for (const m of messages) {
    if (m.seq !== expected) return expected - 1;
    expected += 1;
  }
  const last = expected - 1;
  return last < upTo ? last : null;
}

/** The client-side state of a message the user wrote that the server has not confirmed yet. */
export interface PendingMessage {
  conversation_id: number;
  client_id: string;
  body: string;
  /** Uploaded files it carries: their ids go with every (re)send, so a resend never uploads again. */
  attachments?: Attachment[];
  /** The message it answers: its seq goes with every (re)send, the preview shows the quote meanwhile. */
  reply_to_seq?: number;
  reply_to?: ReplyPreview;
  created_at: string;
  status: 'pending' | 'failed';
  error?: string;
}

/** Drops from the outbox every entry the server has confirmed (its client_id is among `confirmed`). */
export function settleOutbox(outbox: readonly PendingMessage[], confirmed: readonly Message[], myId: number): readonly PendingMessage[] {
  if (outbox.length === 0 || confirmed.length === 0) return outbox;
  const done = new Set(confirmed.filter((m) => m.sender_id === myId).map((m) => m.client_id));
  if (done.size === 0) return outbox;
  const left = outbox.filter((p) => !done.has(p.client_id));
  return left.length === outbox.length ? outbox : left;
}

/** A client_id: random, unique per message; the server stores a (conversation, client_id) pair once. */
export function newClientId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The seq of one's last message that can still be edited (not deleted, not a timeline event such as a rename),
 * or null: what Up in the composer edits.
 */
export function lastEditable(messages: readonly Message[], myId: number): number | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.sender_id === myId && !m.deleted && m.event == null) return m.seq;
  }
  return null;
}
