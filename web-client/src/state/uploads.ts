// The composer's files on their way up: each file picked, dropped or pasted becomes a draft of its conversation
// (`ChatState.uploads`), uploads start in turn (a few at once), report their progress, and end uploaded or refused
// (in words). Removing a draft aborts its upload and revokes its preview. Sending takes the uploaded ones: from then
// on the outbox holds their ids, so a resend never uploads again. Drafts live as long as the tab (a reload loses
// the File objects they were made of).
import type { Attachment } from '../api/types';
import { isAbort } from '../api/upload';
import { MAX_ATTACHMENTS, isPreviewable, isRetryableUpload, uploadErrorMessage } from '../logic/attachments';
import { admit, nextToStart, percent, type DraftUpload } from '../logic/uploads';
import type { ChatState, Store } from './store';

export type UploadFn = (conversationId: number, file: File, onProgress: (loaded: number) => void, signal: AbortSignal) => Promise<Attachment>;

export interface UploadsDeps {
  store: Store<ChatState>;
  upload: UploadFn;
  /** Takes back an uploaded file no message carries (`DELETE /api/attachments/{id}`), so it stops counting
   * among the user's unsent uploads at once instead of after the server's grace period. */
  discard?: (attachmentId: string) => Promise<unknown>;
  /** Object URLs for image previews (injectable for tests). */
  objectUrls?: { create: (file: Blob) => string; revoke: (url: string) => void };
}

const browserUrls = {
  create: (file: Blob) => URL.createObjectURL(file),
  revoke: (url: string) => URL.revokeObjectURL(url),
};

export class Uploads {
  private readonly files = new Map<string, File>();
  private readonly aborts = new Map<string, AbortController>();
  private next = 0;

  constructor(private readonly deps: UploadsDeps) {}

  private get urls() {
    return this.deps.objectUrls ?? browserUrls;
  }

  /** Adds files to a conversation's drafts and starts their uploads; returns how many did not fit (max 10). */
  add(conversationId: number, files: readonly File[]): number {
    const { store } = this.deps;
    const mine = store.get().uploads.filter((d) => d.conversation_id === conversationId);
    const { take, refused } = admit(mine, files.length, MAX_ATTACHMENTS);
    const added: DraftUpload[] = files.slice(0, take).map((file) => {
      const key = `u${++this.next}`;
      this.files.set(key, file);
      return {
        key,
        conversation_id: conversationId,
        name: file.name || 'file',
        size: file.size,
        type: file.type,
        preview: isPreviewable(file.type) ? this.urls.create(file) : undefined,
        status: 'queued',
        loaded: 0,
      };
    });
    if (added.length) store.update((s) => ({ ...s, uploads: [...s.uploads, ...added] }));
    if (refused > 0) {
      const notice = `A message takes up to ${MAX_ATTACHMENTS} files: ${refused === 1 ? '1 file was' : `${refused} files were`} left out.`;
      store.update((s) => ({ ...s, notice }));
    }
    this.pump();
    return refused;
  }

  /** Removes a draft: its upload, if running, is aborted; an uploaded one taken back; its preview revoked. */
  remove(key: string): void {
    this.aborts.get(key)?.abort();
    const uploaded = this.deps.store.get().uploads.find((d) => d.key === key && d.status === 'done')?.attachment;
    // Best effort: a file not taken back is removed by the server after its grace period anyway.
    if (uploaded) void this.deps.discard?.(uploaded.id).catch(() => undefined);
    this.drop([key]);
    this.pump();
  }

  /** Tries a failed upload again (the File is still in memory). */
  retry(key: string): void {
    if (!this.files.has(key)) return;
    this.patch(key, { status: 'queued', loaded: 0, error: undefined, retryable: undefined });
    this.pump();
  }

  /**
   * What a message now being sent carries: the conversation's uploaded files, in order. Its drafts leave the
   * composer (refused ones too: their reason was shown). Call only when nothing is uploading (`canSend`).
   */
  take(conversationId: number): Attachment[] {
    const mine = this.deps.store.get().uploads.filter((d) => d.conversation_id === conversationId && (d.status === 'done' || d.status === 'failed'));
    const attachments = mine.flatMap((d) => (d.status === 'done' && d.attachment ? [d.attachment] : []));
    this.drop(mine.map((d) => d.key));
    return attachments;
  }

  /** Signed out or stopped: every upload aborted, every preview revoked. */
  forgetAll(): void {
    for (const a of this.aborts.values()) a.abort();
    this.drop(this.deps.store.get().uploads.map((d) => d.key));
  }

  private drop(keys: readonly string[]): void {
    if (keys.length === 0) return;
    const gone = new Set(keys);
    for (const d of this.deps.store.get().uploads) if (gone.has(d.key) && d.preview) this.urls.revoke(d.preview);
    for (const k of keys) {
      this.files.delete(k);
      this.aborts.delete(k);
    }
    this.deps.store.update((s) => ({ ...s, uploads: s.uploads.filter((d) => !gone.has(d.key)) }));
  }

  private patch(key: string, change: Partial<DraftUpload>): void {
    this.deps.store.update((s) => {
      const i = s.uploads.findIndex((d) => d.key === key);
      if (i < 0) return s;
      const uploads = s.uploads.slice();
      uploads[i] = { ...uploads[i], ...change };
      return { ...s, uploads };
    });
  }

  /** Starts queued uploads while there is room. */
  private pump(): void {
    for (const d of nextToStart(this.deps.store.get().uploads)) this.start(d);
  }

  private start(d: DraftUpload): void {
    const file = this.files.get(d.key);
    if (!file) return;
    const abort = new AbortController();
    this.aborts.set(d.key, abort);
    this.patch(d.key, { status: 'uploading', loaded: 0 });
    let shown = 0;
    const onProgress = (loaded: number) => {
      // A render per whole percent at most.
      const now = percent({ loaded, size: d.size, status: 'uploading' });
      if (now === shown) return;
      shown = now;
      this.patch(d.key, { loaded });
    };
    this.deps.upload(d.conversation_id, file, onProgress, abort.signal).then(
      (attachment) => {
        if (abort.signal.aborted || !this.files.has(d.key)) return;
        this.aborts.delete(d.key);
        this.patch(d.key, { status: 'done', loaded: d.size, attachment });
        this.pump();
      },
      (e) => {
        if (isAbort(e) || abort.signal.aborted || !this.files.has(d.key)) return;
        this.aborts.delete(d.key);
        this.patch(d.key, { status: 'failed', error: uploadErrorMessage(e), retryable: isRetryableUpload(e) });
        this.pump();
      },
    );
  }
}
