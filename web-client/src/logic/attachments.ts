// Attachments as the client shows them: sizes in words, which files are images, the box a thumbnail takes before
// it loads (no layout jump), a message's attachments summed up for a preview line, media URLs with their token,
// and the server's refusals of an upload or a send put in words.
import { ApiError } from '../api/auth';
import type { Attachment } from '../api/types';

/** The server takes at most this many attachments in one message. */
export const MAX_ATTACHMENTS = 10;

/** A size in bytes for people: "512 B", "1.2 KB", "3.4 MB", "12 MB", "1.1 GB" (1 KB = 1024 B). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  // Round first, so 1023.96 KB reads "1 MB" and not "1024 KB".
  while (unit < units.length - 1 && roundSize(value) >= 1024) {
    value /= 1024;
    unit += 1;
  }
  const shown = roundSize(value);
  return `${shown % 1 === 0 ? shown.toFixed(0) : shown.toFixed(1)} ${units[unit]}`;
}

/** One decimal below 10, none from 10 on ("1.2 MB", "12 MB"). */
function roundSize(value: number): number {
  return value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
}

/** Types the server makes a thumbnail of (and a browser shows inline). */
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** Whether a stored attachment is shown as a picture: it has a thumbnail. */
export function isImage(a: Pick<Attachment, 'content_type' | 'thumbnail_url'>): boolean {
  return !!a.thumbnail_url && IMAGE_TYPES.has(a.content_type);
}

/** Whether a file about to be uploaded can be previewed as a picture (the browser's guess from its name). */
export function isPreviewable(type: string): boolean {
  return IMAGE_TYPES.has(type);
}

/**
 * The box (CSS px) an image takes in a message, from its pixel size: fitted into max×max keeping its shape,
 * never smaller than `min` on a side (a sliver is cropped to fit). A square `fallback` when the size is unknown.
 */
export function thumbBox(width: number | null | undefined, height: number | null | undefined, max = 280, min = 60, fallback = 200): { width: number; height: number } {
  if (!width || !height || width <= 0 || height <= 0) return { width: fallback, height: fallback };
  const scale = Math.min(1, max / width, max / height);
  return {
    width: Math.max(min, Math.min(max, Math.round(width * scale))),
    height: Math.max(min, Math.min(max, Math.round(height * scale))),
  };
}

/** `url` with `?media_token=…` (or `&…`), or null while there is no token yet. */
export function mediaUrl(url: string, token: string | null): string | null {
  if (!token) return null;
  return `${url}${url.includes('?') ? '&' : '?'}media_token=${encodeURIComponent(token)}`;
}

/** A short kind label for a file chip's icon: PDF, ZIP, DOC… from the name's extension, else FILE. */
export function fileKind(name: string): string {
  const m = /\.([a-z0-9]{1,5})$/i.exec(name);
  return m ? m[1].toUpperCase() : 'FILE';
}

/** What a message of only attachments says in a one-line preview: "Photo", "3 photos", "report.pdf", "2 files". */
export function attachmentSummary(attachments: readonly Pick<Attachment, 'name' | 'content_type' | 'thumbnail_url'>[]): string {
  const n = attachments.length;
  if (n === 0) return '';
  const images = attachments.filter(isImage).length;
  if (images === n) return n === 1 ? 'Photo' : `${n} photos`;
  if (n === 1) return attachments[0].name;
  return `${n} files`;
}

/** A message's preview line: its text, else what it carries. */
export function previewText(body: string, attachments: readonly Attachment[] | undefined): string {
  return body || attachmentSummary(attachments ?? []);
}

/** Whether trying the same upload again can help (the network, a busy server, a bound that frees up). */
export function isRetryableUpload(e: unknown): boolean {
  if (e instanceof ApiError) return e.status === 429 || e.status >= 500 || e.code === 'too_many_uploads';
  return e instanceof TypeError;
}

/** Why an upload failed, in words, from the server's answer. */
export function uploadErrorMessage(e: unknown): string {
  if (e instanceof ApiError) {
    switch (e.code) {
      case 'payload_too_large': {
        const limit = /(\d+) bytes/.exec(e.message);
        return limit ? `Too large: files can be up to ${formatSize(Number(limit[1]))}.` : 'Too large to send.';
      }
      case 'unsupported_attachment_type':
        // The server names the kind it refused ("HTML, SVG and XML files are not accepted.").
        return e.message || 'This type of file cannot be sent.';
      case 'too_many_uploads':
        return 'Too many uploads at once: try again when one has finished.';
      case 'too_many_unsent_uploads':
        return 'Too many files waiting to be sent: send or remove some first.';
      case 'upload_quota_exceeded':
        return 'You have reached the upload limit for the last 24 hours.';
      case 'rate_limited':
        return e.retryAfterMs ? `Too many requests: try again in ${Math.ceil(e.retryAfterMs / 1000)} s.` : 'Too many requests: try again shortly.';
      case 'validation_failed':
        return e.message || 'This file cannot be sent.';
    }
    if (e.status === 404) return 'You are no longer in this conversation.';
    if (e.status === 401) return 'You are signed out.';
    if (e.status >= 500) return 'The server could not store the file. Try again.';
    return e.message;
  }
  if (e instanceof TypeError) return 'Upload failed: the server cannot be reached.';
  return e instanceof Error ? e.message : String(e);
}

/** A send refused because of its attachments, in words; null for any other refusal. */
export function attachmentRefusalMessage(code: string): string | null {
  if (code === 'attachment_unavailable') return 'A file of this message is no longer available: discard this message and attach the file again.';
  return null;
}
