// Files in the composer before a message carries them: what each one is doing (waiting its turn, uploading with
// its progress, uploaded, refused) and the rules over the lot — how many a message takes, how many go up at once,
// and when the message can be sent.
import type { Attachment } from '../api/types';
import { MAX_ATTACHMENTS } from './attachments';

/** At most this many uploads run at once (the server allows 4 per user; one is left for another tab). */
export const MAX_PARALLEL_UPLOADS = 3;

export interface DraftUpload {
  /** Local key, unique in this tab. */
  key: string;
  conversation_id: number;
  name: string;
  size: number;
  /** The browser's guess from the name; the server sniffs the bytes for itself. */
  type: string;
  /** An object URL of the file for an image's preview; revoked when the draft goes. */
  preview?: string;
  status: 'queued' | 'uploading' | 'done' | 'failed';
  /** Bytes sent so far. */
  loaded: number;
  /** The stored upload, once done: its id goes into the message's `attachment_ids`. */
  attachment?: Attachment;
  /** Why it failed, in words. */
  error?: string;
  /** Whether trying again can help. */
  retryable?: boolean;
}

/** The drafts of one conversation, in the order they were added. */
export function draftsOf(drafts: readonly DraftUpload[], conversationId: number): DraftUpload[] {
  return drafts.filter((d) => d.conversation_id === conversationId);
}

/** Drafts that still count towards the message's limit: all but the refused ones. */
function counted(drafts: readonly DraftUpload[]): number {
  return drafts.filter((d) => d.status !== 'failed').length;
}

/** How many of `incoming` new files fit next to a conversation's drafts, and how many are turned away. */
export function admit(drafts: readonly DraftUpload[], incoming: number, max = MAX_ATTACHMENTS): { take: number; refused: number } {
  const room = Math.max(0, max - counted(drafts));
  const take = Math.min(room, incoming);
  return { take, refused: incoming - take };
}

/** The queued drafts that may start now, in order, keeping at most `parallel` uploading in the whole tab. */
export function nextToStart(drafts: readonly DraftUpload[], parallel = MAX_PARALLEL_UPLOADS): DraftUpload[] {
  const running = drafts.filter((d) => d.status === 'uploading').length;
  return drafts.filter((d) => d.status === 'queued').slice(0, Math.max(0, parallel - running));
}

/** Whether any draft of a conversation is still on its way (queued or uploading). */
export function isUploading(drafts: readonly DraftUpload[]): boolean {
  return drafts.some((d) => d.status === 'queued' || d.status === 'uploading');
}

/**
 * Whether the composer can send: nothing is still uploading (the message waits for its files), and there is
 * text or at least one uploaded file.
 */
export function canSend(body: string, drafts: readonly DraftUpload[]): boolean {
  if (isUploading(drafts)) return false;
  return body.trim().length > 0 || drafts.some((d) => d.status === 'done');
}

/** 0–100, for the progress bar. */
export function percent(d: Pick<DraftUpload, 'loaded' | 'size' | 'status'>): number {
  if (d.status === 'done') return 100;
  if (d.size <= 0) return 0;
  return Math.max(0, Math.min(100, Math.floor((d.loaded / d.size) * 100)));
}
