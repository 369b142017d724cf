import { describe, expect, it, vi } from 'vitest';
import type { Api } from '../api/client';
import type { Message } from '../api/types';
import { conv, msg } from '../logic/fixtures';
import { Features } from './features';
import { History } from './history';
import { ingestMessages } from './reducer';
import { initialState, Store, type ChatState } from './store';

const alice = { id: 1, username: 'alice', display_name: 'Alice' };
const okAnswer = (data: unknown, status = 200) => Promise.resolve({ data, response: new Response(null, { status }) });
const refused = (status: number, code: string, message: string, field?: string) => Promise.resolve({ error: { error: { code, message, field } }, response: new Response(null, { status }) });

function chat(messages: Message[]) {
  const store = new Store<ChatState>(initialState(alice, []));
  store.update((s) => ({
    ...s,
    conversations: { 1: conv({ last_seq: messages[messages.length - 1]?.seq ?? 0, last_read_seq: 0 }) },
    views: { 1: { messages, hasMoreBefore: (messages[0]?.seq ?? 1) > 1, loadingOlder: false, loaded: true } },
  }));
  return store;
}

describe('Features: reactions', () => {
  it('shows my reaction at once, then the server’s list', async () => {
    const store = chat([msg(1), msg(2)]);
    let answer!: (v: unknown) => void;
    const PUT = vi.fn(() => new Promise((r) => (answer = r)));
    const f = new Features({ store, api: { PUT } as unknown as Api });
    const done = f.react(1, 2, '👍', true);
    expect(store.get().views[1].messages[1].reactions).toEqual([{ emoji: '👍', count: 1, user_ids: [1] }]);
    expect(PUT).toHaveBeenCalledWith('/api/conversations/{id}/messages/{seq}/reactions/{emoji}', { params: { path: { id: 1, seq: 2, emoji: '👍' } } });
    answer({ data: { conversation_id: 1, seq: 2, reactions: [{ emoji: '👍', count: 2, user_ids: [2, 1] }] }, response: new Response(null, { status: 200 }) });
    await done;
    expect(store.get().views[1].messages[1].reactions).toEqual([{ emoji: '👍', count: 2, user_ids: [2, 1] }]);
  });

  it('takes a refused reaction back and says why in words', async () => {
    const store = chat([msg(1, { reactions: [{ emoji: '🎉', count: 1, user_ids: [2] }] })]);
    const f = new Features({ store, api: { PUT: () => refused(422, 'too_many_reactions', 'too many') } as unknown as Api });
    await expect(f.react(1, 1, '👍', true)).rejects.toThrow(/20 different reactions/);
    expect(store.get().views[1].messages[0].reactions).toEqual([{ emoji: '🎉', count: 1, user_ids: [2] }]);
  });

  it('DELETE takes mine back', async () => {
    const store = chat([msg(1, { reactions: [{ emoji: '👍', count: 1, user_ids: [1] }] })]);
    const DELETE = vi.fn(() => okAnswer({ conversation_id: 1, seq: 1, reactions: [] }));
    await new Features({ store, api: { DELETE } as unknown as Api }).react(1, 1, '👍', false);
    expect(DELETE).toHaveBeenCalledOnce();
    expect(store.get().views[1].messages[0].reactions).toEqual([]);
  });
});

describe('Features: pins, levels, roles, search', () => {
  it('loads pins once at a time, pins (first in the list) and unpins', async () => {
    const store = chat([msg(1), msg(2)]);
    const GET = vi.fn(() => okAnswer({ pins: [{ message: msg(1), pinned_by: 2, pinned_at: '2024-05-15T10:00:00Z' }] }));
    const PUT = vi.fn(() => okAnswer({ message: msg(2), pinned_by: 1, pinned_at: '2024-05-15T11:00:00Z' }));
    const DELETE = vi.fn(() => Promise.resolve({ response: new Response(null, { status: 204 }) }));
    const f = new Features({ store, api: { GET, PUT, DELETE } as unknown as Api });
    await Promise.all([f.loadPins(1), f.loadPins(1)]);
    expect(GET).toHaveBeenCalledOnce();
    await f.pin(1, 2, true);
    expect(store.get().pins[1].map((p) => p.message.seq)).toEqual([2, 1]);
    await f.pin(1, 1, false);
    expect(store.get().pins[1].map((p) => p.message.seq)).toEqual([2]);
  });

  it('puts pin refusals in words', async () => {
    const store = chat([msg(1)]);
    await expect(new Features({ store, api: { PUT: () => refused(422, 'too_many_pins', 'x') } as unknown as Api }).pin(1, 1, true)).rejects.toThrow(/50 pinned messages/);
    await expect(new Features({ store, api: { PUT: () => refused(403, 'forbidden', 'x') } as unknown as Api }).pin(1, 1, true)).rejects.toThrow(/owner and admins/);
  });

  it('saves my notification level on the conversation', async () => {
    const store = chat([msg(1)]);
    const PUT = vi.fn(() => okAnswer({ level: 'mentions', until: null }));
    await new Features({ store, api: { PUT } as unknown as Api }).setNotifications(1, { level: 'mentions', until: null });
    expect(PUT).toHaveBeenCalledWith('/api/conversations/{id}/notifications', { params: { path: { id: 1 } }, body: { level: 'mentions', until: null } });
    expect(store.get().conversations[1].notifications).toEqual({ level: 'mentions', until: null });
  });

  it('changes a role with PATCH and takes the conversation it answers', async () => {
    const store = chat([msg(1)]);
    const changed = conv({ kind: 'group', title: 'T', members: [{ user: alice, role: 'admin', last_read_seq: 0, last_delivered_seq: 0 }] });
    const PATCH = vi.fn(() => okAnswer(changed));
    await new Features({ store, api: { PATCH } as unknown as Api }).setRole(1, 2, 'owner');
    expect(PATCH).toHaveBeenCalledWith('/api/conversations/{id}/members/{user_id}', { params: { path: { id: 1, user_id: 2 } }, body: { role: 'owner' } });
    expect(store.get().conversations[1].members[0].role).toBe('admin');
  });

  it('searches with the scope and the cursor; a server without search says so', async () => {
    const store = chat([msg(1)]);
    const GET = vi.fn(() => okAnswer({ results: [], next_before: null }));
    await new Features({ store, api: { GET } as unknown as Api }).search('rust', { conversationId: 1, before: 'abc' });
    expect(GET).toHaveBeenCalledWith('/api/search', { params: { query: { q: 'rust', conversation_id: 1, before: 'abc', limit: 20 } } });
    await expect(new Features({ store, api: { GET: () => refused(404, 'not_found', 'Not found') } as unknown as Api }).search('rust')).rejects.toThrow(/not available/);
  });
});

describe('History.reveal: jumping to a message not held', () => {
  const page = (from: number, to: number, has_more: boolean) => ({ messages: Array.from({ length: to - from + 1 }, (_, i) => msg(from + i)), has_more });

  function setup(get: (query: Record<string, number>) => unknown) {
    // Messages 200–210 held; the one to reach is 120.
    const store = chat(Array.from({ length: 11 }, (_, i) => msg(200 + i)));
    const GET = vi.fn((_p: string, init: { params: { query: Record<string, number> } }) => okAnswer(get(init.params.query)));
    const ingest = (id: number, messages: readonly Message[]) => store.update((s) => ingestMessages(s, id, messages));
    const history = new History({ store, api: { GET } as unknown as Api, ingest, notice: () => {} });
    return { store, GET, history };
  }

  it('loads the page around it, then fills what lies between (one unbroken run)', async () => {
    const { store, GET, history } = setup((q) => {
      if (q.around_seq) return page(95, 145, true);
      if (q.after_seq) return page(q.after_seq + 1, Math.min(q.after_seq + 100, 210), q.after_seq + 100 < 210);
      throw new Error('unexpected');
    });
    expect(await history.reveal(1, 120)).toBe(true);
    const seqs = store.get().views[1].messages.map((m) => m.seq);
    expect(seqs[0]).toBe(95);
    expect(seqs).toEqual(Array.from({ length: 116 }, (_, i) => 95 + i));
    expect(store.get().views[1].hasMoreBefore).toBe(true);
    expect(GET.mock.calls[0][1].params.query).toEqual({ around_seq: 120, limit: 50 });
  });

  it('pages back with before_seq on a server without around_seq (its latest page does not hold the seq)', async () => {
    const { store, history } = setup((q) => {
      if (q.around_seq) return page(161, 210, true);
      if (q.before_seq) return page(Math.max(1, q.before_seq - 50), q.before_seq - 1, q.before_seq - 50 > 1);
      return page(161, 210, true);
    });
    expect(await history.reveal(1, 120)).toBe(true);
    expect(store.get().views[1].messages[0].seq).toBeLessThanOrEqual(120);
  });

  it('is done at once when the message is held', async () => {
    const { GET, history } = setup(() => {
      throw new Error('no request');
    });
    expect(await history.reveal(1, 205)).toBe(true);
    expect(GET).not.toHaveBeenCalled();
  });
});
