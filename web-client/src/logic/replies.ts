// Replies: the preview of the message being answered (composer, pending bubble), what a quote says, and quotes
// kept current when their original is edited or deleted while it is held.
import type { Message, ReplyPreview } from '../api/types';
import { previewText } from './attachments';

/** The server's excerpt length. */
export const EXCERPT_CHARS = 100;

/** A reply preview of a held message, as the server would build it (for the composer and a pending reply). */
export function replyPreviewOf(m: Message): ReplyPreview {
  return {
    seq: m.seq,
    sender_id: m.sender_id,
    sender_name: m.sender_name,
    excerpt: m.deleted ? '' : Array.from(m.body).slice(0, EXCERPT_CHARS).join(''),
    deleted: m.deleted,
  };
}

/** What a quote shows: the excerpt, "Deleted message", or what the original carried when it had no text. */
export function quoteText(r: ReplyPreview, original?: Message): string {
  if (r.deleted) return 'Deleted message';
  if (r.excerpt) return r.excerpt;
  if (original && (original.attachments?.length ?? 0) > 0) return previewText('', original.attachments);
  return 'Message';
}

/**
 * Held messages whose quote names one of `updated` get the quote brought up to date (the server does the same
 * for what it sends later). The same array when nothing changed.
 */
export function refreshQuotes(messages: readonly Message[], updated: readonly Message[]): readonly Message[] {
  if (updated.length === 0) return messages;
  const bySeq = new Map(updated.map((m) => [m.seq, m]));
  let changed = false;
  const next = messages.map((m) => {
    const r = m.reply_to;
    const original = r ? bySeq.get(r.seq) : undefined;
    if (!r || !original) return m;
    const fresh = replyPreviewOf(original);
    if (fresh.deleted === r.deleted && fresh.excerpt === r.excerpt) return m;
    changed = true;
    return { ...m, reply_to: { ...r, excerpt: fresh.excerpt, deleted: fresh.deleted } };
  });
  return changed ? next : messages;
}
