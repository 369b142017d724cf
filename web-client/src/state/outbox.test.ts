import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Api } from '../api/client';
import type { Attachment, Message } from '../api/types';
import { msg } from '../logic/fixtures';
import type { ClientFrame } from '../realtime/frames';
import { loadOutbox, Outbox } from './outbox';
import { ingestMessages } from './reducer';
import { initialState, Store, type ChatState } from './store';

const alice = { id: 1, username: 'alice', display_name: 'Alice' };

/** An outbox over a fake socket (open or not) and a fake `POST /api/conversations/{id}/messages`. */
type SendBody = { body: string; client_id: string; attachment_ids?: string[] };

function setup(opts: { socketOpen: boolean; post?: (body: SendBody) => Promise<unknown> }) {
  const store = new Store<ChatState>(initialState(alice, []));
  const frames: ClientFrame[] = [];
  const send = vi.fn((f: ClientFrame) => (opts.socketOpen ? (frames.push(f), true) : false));
  const post = vi.fn((_path: string, init: { body: SendBody }) => (opts.post ?? (() => new Promise(() => {})))(init.body));
  const api = { POST: post } as unknown as Api;
  const ingest = (id: number, messages: readonly Message[]) => store.update((s) => ingestMessages(s, id, messages));
  const outbox = new Outbox({ store, api, send, ingest });
  const write = (body: string) => {
    const p = outbox.add(1, body);
    if (p) outbox.deliver(p);
    return p;
  };
  return { store, frames, send, post, outbox, write };
}

const stored = (body: SendBody, status = 201) => ({
  data: msg(4, { sender_id: alice.id, sender_name: 'Alice', ...body }),
  response: new Response(null, { status }),
});
const refused = (code: string, message: string) => ({
  error: { error: { code, message } },
  response: new Response(null, { status: 403 }),
});
const settle = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => {
  vi.useRealTimers();
});

describe('Outbox', () => {
  it('shows a new message at once as pending and sends it over the open socket with its client_id', () => {
    const { store, frames, write } = setup({ socketOpen: true });
    const p = write('  hello  ')!;
    expect(store.get().outbox).toEqual([p]);
    expect(p).toMatchObject({ body: 'hello', status: 'pending' });
    expect(frames).toEqual([{ type: 'new_message', conversation_id: 1, client_id: p.client_id, body: 'hello' }]);
  });

  it('takes no blank message', () => {
    const { store, send, write } = setup({ socketOpen: true });
    expect(write('   ')).toBeNull();
    expect(store.get().outbox).toEqual([]);
    expect(send).not.toHaveBeenCalled();
  });

  it('marks a message failed when the server does not acknowledge it within 15 s', () => {
    vi.useFakeTimers();
    const { store, write } = setup({ socketOpen: true });
    write('hello');
    vi.advanceTimersByTime(14_999);
    expect(store.get().outbox[0].status).toBe('pending');
    vi.advanceTimersByTime(1);
    expect(store.get().outbox[0]).toMatchObject({ status: 'failed', error: 'Not confirmed by the server.' });
  });

  it('stops waiting for the ack once the server has answered that client_id', () => {
    vi.useFakeTimers();
    const { store, outbox, write } = setup({ socketOpen: true });
    const p = write('hello')!;
    outbox.answered([p.client_id]);
    vi.advanceTimersByTime(60_000);
    expect(store.get().outbox[0].status).toBe('pending');
  });

  it('sends over REST while the socket is down, and the stored message settles it', async () => {
    const { store, post, write } = setup({ socketOpen: false, post: async (body) => stored(body) });
    const p = write('hello')!;
    await settle();
    expect(post).toHaveBeenCalledWith('/api/conversations/{id}/messages', { params: { path: { id: 1 } }, body: { body: 'hello', client_id: p.client_id } });
    expect(store.get().outbox).toEqual([]);
  });

  it("marks a message the server refuses over REST failed, a block's refusal in words", async () => {
    const { store, write } = setup({ socketOpen: false, post: async () => refused('forbidden', 'Forbidden.') });
    write('hello');
    await settle();
    expect(store.get().outbox[0]).toMatchObject({ status: 'failed', error: "You can't send messages to this user." });
  });

  it('keeps a message pending when REST cannot reach the server either', async () => {
    const { store, write } = setup({
      socketOpen: false,
      post: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    write('hello');
    await settle();
    expect(store.get().outbox[0].status).toBe('pending');
  });

  it('resends every pending message after a reconnect with the same client_id, and no failed one', () => {
    const { store, frames, outbox } = setup({ socketOpen: true });
    const pending = { conversation_id: 1, client_id: 'k1', body: 'one', created_at: '2024-05-15T12:00:00Z', status: 'pending' as const };
    const failed = { ...pending, client_id: 'k2', body: 'two', status: 'failed' as const, error: 'Too long.' };
    store.update((s) => ({ ...s, outbox: [pending, failed] }));
    outbox.resendPending();
    expect(frames).toEqual([{ type: 'new_message', conversation_id: 1, client_id: 'k1', body: 'one' }]);
  });

  it('retries a failed message with its original client_id, pending again', () => {
    const { store, frames, outbox } = setup({ socketOpen: true });
    store.update((s) => ({ ...s, outbox: [{ conversation_id: 1, client_id: 'k2', body: 'two', created_at: '2024-05-15T12:00:00Z', status: 'failed', error: 'Too long.' }] }));
    outbox.retry('k2');
    expect(store.get().outbox[0]).toMatchObject({ client_id: 'k2', status: 'pending', error: undefined });
    expect(frames).toEqual([{ type: 'new_message', conversation_id: 1, client_id: 'k2', body: 'two' }]);
  });

  it('discards a message for good', () => {
    const { store, outbox, write } = setup({ socketOpen: true });
    const p = write('hello')!;
    outbox.discard(p.client_id);
    expect(store.get().outbox).toEqual([]);
  });
});

/** A sessionStorage for the outbox's persistence (vitest runs in node). */
function withSessionStorage() {
  const m = new Map<string, string>();
  vi.stubGlobal('sessionStorage', {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
  });
  return m;
}

const photo: Attachment = { id: 'att-1', name: 'cat.png', content_type: 'image/png', size: 2048, width: 64, height: 48, url: '/api/attachments/att-1', thumbnail_url: '/api/attachments/att-1/thumbnail' };
const pdf: Attachment = { id: 'att-2', name: 'report.pdf', content_type: 'application/pdf', size: 9000, url: '/api/attachments/att-2' };

describe('Outbox with attachments', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('takes a message of attachments only, and sends their ids with it', () => {
    const { store, frames, outbox } = setup({ socketOpen: true });
    const p = outbox.add(1, '   ', [photo, pdf])!;
    outbox.deliver(p);
    expect(store.get().outbox[0]).toMatchObject({ body: '', attachments: [photo, pdf] });
    expect(frames).toEqual([{ type: 'new_message', conversation_id: 1, client_id: p.client_id, body: '', attachment_ids: ['att-1', 'att-2'] }]);
  });

  it('resends after a reconnect with the same client_id and the same attachment ids (no second upload)', () => {
    const { frames, outbox } = setup({ socketOpen: true });
    const p = outbox.add(1, 'look', [photo])!;
    outbox.deliver(p);
    outbox.resendPending();
    outbox.resendPending();
    expect(frames).toHaveLength(3);
    for (const f of frames) expect(f).toEqual({ type: 'new_message', conversation_id: 1, client_id: p.client_id, body: 'look', attachment_ids: ['att-1'] });
  });

  it('keeps the ids and what it takes to show them across a reload (sessionStorage)', () => {
    withSessionStorage();
    const { outbox } = setup({ socketOpen: false });
    const p = outbox.add(1, '', [photo, pdf])!;
    outbox.persist();
    const reloaded = loadOutbox(alice.id);
    expect(reloaded).toEqual([p]);
    // The next tab's outbox resends them as they were.
    const next = setup({ socketOpen: true });
    next.store.update((s) => ({ ...s, outbox: reloaded }));
    next.outbox.resendPending();
    expect(next.frames).toEqual([{ type: 'new_message', conversation_id: 1, client_id: p.client_id, body: '', attachment_ids: ['att-1', 'att-2'] }]);
  });

  it('retries a failed message with its attachment ids', () => {
    const { store, frames, outbox } = setup({ socketOpen: true });
    store.update((s) => ({ ...s, outbox: [{ conversation_id: 1, client_id: 'k3', body: '', attachments: [pdf], created_at: '2024-05-15T12:00:00Z', status: 'failed', error: 'x' }] }));
    outbox.retry('k3');
    expect(frames).toEqual([{ type: 'new_message', conversation_id: 1, client_id: 'k3', body: '', attachment_ids: ['att-2'] }]);
  });

  it('sends the ids over REST while the socket is down', async () => {
    const { store, post, outbox } = setup({ socketOpen: false, post: async (body) => stored({ ...body, body: 'x' }) });
    const p = outbox.add(1, 'x', [photo])!;
    outbox.deliver(p);
    await settle();
    expect(post).toHaveBeenCalledWith('/api/conversations/{id}/messages', { params: { path: { id: 1 } }, body: { body: 'x', client_id: p.client_id, attachment_ids: ['att-1'] } });
    expect(store.get().outbox).toEqual([]);
  });

  it('marks a message whose upload is no longer available failed, in words', async () => {
    const { store, outbox } = setup({ socketOpen: false, post: async () => refused('attachment_unavailable', 'An attachment is not one of your unsent uploads to this conversation.') });
    outbox.deliver(outbox.add(1, '', [photo])!);
    await settle();
    expect(store.get().outbox[0]).toMatchObject({ status: 'failed', error: 'A file of this message is no longer available: discard this message and attach the file again.' });
  });
});

describe('Outbox with a reply', () => {
  const quote = { seq: 2, sender_id: 2, sender_name: 'Bob', excerpt: 'the original', deleted: false };
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('sends reply_to_seq with the message and shows the quote while pending', () => {
    const { store, frames, outbox } = setup({ socketOpen: true });
    const p = outbox.add(1, 'yes', [], quote)!;
    outbox.deliver(p);
    expect(store.get().outbox[0]).toMatchObject({ reply_to_seq: 2, reply_to: quote });
    expect(frames).toEqual([{ type: 'new_message', conversation_id: 1, client_id: p.client_id, body: 'yes', reply_to_seq: 2 }]);
  });

  it('resends, retries and survives a reload with the same reply_to_seq (and attachment ids)', () => {
    withSessionStorage();
    const { outbox, frames, store } = setup({ socketOpen: true });
    const p = outbox.add(1, 'see', [photo], quote)!;
    outbox.deliver(p);
    outbox.resendPending();
    store.update((s) => ({ ...s, outbox: s.outbox.map((x) => ({ ...x, status: 'failed' as const })) }));
    outbox.retry(p.client_id);
    const expected = { type: 'new_message', conversation_id: 1, client_id: p.client_id, body: 'see', attachment_ids: ['att-1'], reply_to_seq: 2 };
    expect(frames).toEqual([expected, expected, expected]);
    outbox.persist();
    const next = setup({ socketOpen: true });
    next.store.update((s) => ({ ...s, outbox: loadOutbox(alice.id) }));
    next.outbox.resendPending();
    expect(next.frames).toEqual([expected]);
  });

  it('sends reply_to_seq over REST while the socket is down', async () => {
    const { post, outbox } = setup({ socketOpen: false, post: async (body) => stored({ ...body, body: 'x' }) });
    const p = outbox.add(1, 'x', [], quote)!;
    outbox.deliver(p);
    await settle();
    expect(post).toHaveBeenCalledWith('/api/conversations/{id}/messages', { params: { path: { id: 1 } }, body: { body: 'x', client_id: p.client_id, reply_to_seq: 2 } });
  });
});
