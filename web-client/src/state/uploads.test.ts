import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/auth';
import type { Attachment } from '../api/types';
import { initialState, Store, type ChatState } from './store';
import { Uploads, type UploadFn } from './uploads';

const alice = { id: 1, username: 'alice', display_name: 'Alice' };
const settle = () => new Promise((r) => setTimeout(r, 0));

interface Call {
  conversationId: number;
  file: File;
  onProgress: (loaded: number) => void;
  signal: AbortSignal;
  resolve: (a: Attachment) => void;
  reject: (e: unknown) => void;
}

/** Uploads over a fake upload function whose calls the test answers one by one. */
function setup() {
  const store = new Store<ChatState>(initialState(alice, []));
  const calls: Call[] = [];
  const upload: UploadFn = (conversationId, file, onProgress, signal) =>
    new Promise<Attachment>((resolve, reject) => {
      calls.push({ conversationId, file, onProgress, signal, resolve, reject });
      signal.addEventListener('abort', () => reject(new DOMException('cancelled', 'AbortError')));
    });
  let n = 0;
  const objectUrls = { create: vi.fn(() => `blob:preview-${++n}`), revoke: vi.fn() };
  const discarded: string[] = [];
  const discard = async (id: string) => {
    discarded.push(id);
  };
  const uploads = new Uploads({ store, upload, objectUrls, discard });
  const drafts = () => store.get().uploads;
  return { store, calls, uploads, drafts, objectUrls, discarded };
}

const file = (name: string, size = 1000, type = 'image/png') => new File([new Uint8Array(size)], name, { type });
const stored = (id: string, name: string): Attachment => ({ id, name, content_type: 'image/png', size: 1000, width: 10, height: 10, url: `/api/attachments/${id}`, thumbnail_url: `/api/attachments/${id}/thumbnail` });

describe('Uploads', () => {
  it('starts each file at once with a preview for images, and shows its progress', () => {
    const { calls, uploads, drafts, objectUrls } = setup();
    uploads.add(1, [file('cat.png'), file('notes.pdf', 1000, 'application/pdf')]);
    expect(calls).toHaveLength(2);
    expect(drafts().map((d) => [d.name, d.status, d.preview])).toEqual([
      ['cat.png', 'uploading', 'blob:preview-1'],
      ['notes.pdf', 'uploading', undefined],
    ]);
    expect(objectUrls.create).toHaveBeenCalledTimes(1);
    calls[0].onProgress(450);
    expect(drafts()[0].loaded).toBe(450);
  });

  it('runs at most 3 uploads at once; the next starts when one ends', async () => {
    const { calls, uploads, drafts } = setup();
    uploads.add(1, [file('a.png'), file('b.png'), file('c.png'), file('d.png')]);
    expect(calls).toHaveLength(3);
    expect(drafts()[3].status).toBe('queued');
    calls[0].resolve(stored('x1', 'a.png'));
    await settle();
    expect(calls).toHaveLength(4);
    expect(drafts()[0]).toMatchObject({ status: 'done', attachment: { id: 'x1' } });
  });

  it('takes up to 10 files per message and says how many were left out', () => {
    const { uploads, drafts, store } = setup();
    const refused = uploads.add(1, Array.from({ length: 12 }, (_, i) => file(`f${i}.png`)));
    expect(refused).toBe(2);
    expect(drafts()).toHaveLength(10);
    expect(store.get().notice).toBe('A message takes up to 10 files: 2 files were left out.');
  });

  it('cancelling aborts the upload, drops the draft and revokes its preview', async () => {
    const { calls, uploads, drafts, objectUrls } = setup();
    uploads.add(1, [file('big.png')]);
    uploads.remove(drafts()[0].key);
    await settle();
    expect(calls[0].signal.aborted).toBe(true);
    expect(drafts()).toEqual([]);
    expect(objectUrls.revoke).toHaveBeenCalledWith('blob:preview-1');
  });

  it("shows the server's refusal in words, with Retry only where it can help", async () => {
    const { calls, uploads, drafts } = setup();
    uploads.add(1, [file('x.svg', 10, 'image/svg+xml'), file('y.png')]);
    calls[0].reject(new ApiError(415, 'unsupported_attachment_type', 'HTML, SVG and XML files are not accepted.'));
    calls[1].reject(new ApiError(429, 'too_many_uploads', 'Busy.'));
    await settle();
    expect(drafts().map((d) => [d.status, d.error, d.retryable])).toEqual([
      ['failed', 'HTML, SVG and XML files are not accepted.', false],
      ['failed', 'Too many uploads at once: try again when one has finished.', true],
    ]);
    uploads.retry(drafts()[1].key);
    expect(calls).toHaveLength(3);
    expect(calls[2].file.name).toBe('y.png');
    expect(drafts()[1]).toMatchObject({ status: 'uploading', error: undefined });
  });

  it("sending takes the conversation's uploaded files in order and clears its drafts, not another's", async () => {
    const { calls, uploads, drafts } = setup();
    uploads.add(1, [file('a.png'), file('b.png')]);
    uploads.add(2, [file('other.png')]);
    calls[1].resolve(stored('x2', 'b.png'));
    calls[0].resolve(stored('x1', 'a.png'));
    await settle();
    expect(uploads.take(1).map((a) => a.id)).toEqual(['x1', 'x2']);
    expect(drafts().map((d) => d.name)).toEqual(['other.png']);
  });

  it('forgets everything on sign-out: uploads aborted, previews revoked', () => {
    const { calls, uploads, drafts, objectUrls } = setup();
    uploads.add(1, [file('a.png'), file('b.png')]);
    uploads.forgetAll();
    expect(calls.every((c) => c.signal.aborted)).toBe(true);
    expect(drafts()).toEqual([]);
    expect(objectUrls.revoke).toHaveBeenCalledTimes(2);
  });

  it('takes back an uploaded file removed from the composer, and only an uploaded one', async () => {
    const { calls, uploads, drafts, discarded } = setup();
    uploads.add(1, [file('done.png'), file('busy.png')]);
    calls[0].resolve(stored('att-1', 'done.png'));
    await Promise.resolve();
    await Promise.resolve();
    const [done, busy] = drafts();
    uploads.remove(busy.key);
    uploads.remove(done.key);
    expect(discarded).toEqual(['att-1']);
    expect(drafts()).toEqual([]);
  });
});
