// Delivered receipts and being taken out of a group: the reducer's part and the delivery module's.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { conv, msg } from '../logic/fixtures';
import type { ClientFrame } from '../realtime/frames';
import { Delivery, DELIVERED_DELAY_MS, DELIVERED_PER_WINDOW, deliveredToSay } from './delivery';
import { applyFrame, upsertConversation } from './reducer';
import { initialState, Store, type ChatState } from './store';

const alice = { id: 1, username: 'alice', display_name: 'Alice' };
const NOW = Date.UTC(2024, 4, 15, 12, 0);

function chat(over: Partial<ChatState> = {}): ChatState {
  return { ...initialState(alice, []), connection: { state: 'open' }, ...over };
}

afterEach(() => vi.useRealTimers());

describe('delivered positions', () => {
  it('move forward with a delivered frame', () => {
    const s = applyFrame(chat(), { type: 'delivered', conversation_id: 1, user_id: 2, up_to_seq: 4 }, NOW);
    expect(s.delivered[1][2]).toBe(4);
  });

  it('never move back', () => {
    const s = applyFrame(chat({ delivered: { 1: { 2: 6 } } }), { type: 'delivered', conversation_id: 1, user_id: 2, up_to_seq: 4 }, NOW);
    expect(s.delivered[1][2]).toBe(6);
  });

  it("come from members' last_delivered_seq, so the ticks survive a reload", () => {
    const c = conv({ members: [...conv().members.slice(0, 1), { ...conv().members[1], last_delivered_seq: 9 }] });
    expect(upsertConversation(chat(), c).delivered[1][2]).toBe(9);
  });
});

describe('deliveredToSay', () => {
  it("names a conversation whose newest message of someone else this client holds beyond what it said", () => {
    const s = chat({ conversations: { 1: conv({ last_seq: 5, last_message: msg(5), unread_count: 5 }) } });
    expect(deliveredToSay(s, new Map())).toEqual([{ conversationId: 1, upTo: 5 }]);
  });

  it('says nothing already said, read, or delivered as the server told', () => {
    const s = chat({ conversations: { 1: conv({ last_seq: 5, last_message: msg(5) }) } });
    expect(deliveredToSay(s, new Map([[1, 5]]))).toEqual([]);
    expect(deliveredToSay({ ...s, conversations: { 1: conv({ last_seq: 5, last_message: msg(5), last_read_seq: 5 }) } }, new Map())).toEqual([]);
    expect(deliveredToSay({ ...s, delivered: { 1: { 1: 5 } } }, new Map())).toEqual([]);
  });
});

describe('Delivery', () => {
  function setup(conversations: ChatState['conversations']) {
    vi.useFakeTimers();
    const store = new Store(chat({ conversations }));
    const sent: ClientFrame[] = [];
    const delivery = new Delivery(store, (f) => (sent.push(f), true));
    delivery.start();
    return { store, sent, delivery };
  }

  it('sends one frame for many messages arriving together, with the newest seq', async () => {
    const { store, sent } = setup({ 1: conv() });
    for (let seq = 1; seq <= 20; seq++) store.update((s) => applyFrame(s, { type: 'message', message: msg(seq) }, NOW));
    await vi.advanceTimersByTimeAsync(DELIVERED_DELAY_MS);
    expect(sent).toEqual([{ type: 'delivered', conversation_id: 1, up_to_seq: 20 }]);
  });

  it('spreads many conversations over windows to stay under the frame rate limit', async () => {
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [i + 1, conv({ id: i + 1, last_seq: 3, last_message: msg(3, { conversation_id: i + 1 }) })]));
    const { sent } = setup(many);
    await vi.advanceTimersByTimeAsync(DELIVERED_DELAY_MS);
    expect(sent).toHaveLength(DELIVERED_PER_WINDOW);
    await vi.advanceTimersByTimeAsync(DELIVERED_DELAY_MS * 2);
    expect(sent).toHaveLength(20);
  });

  it('stays silent while the socket is down', async () => {
    const { store, sent } = setup({ 1: conv() });
    store.update((s) => ({ ...applyFrame(s, { type: 'message', message: msg(1) }, NOW), connection: { state: 'connecting', attempt: 1 } }));
    await vi.advanceTimersByTimeAsync(DELIVERED_DELAY_MS * 2);
    expect(sent).toEqual([]);
  });
});

describe('removed from a group', () => {
  const group = conv({ id: 4, kind: 'group', title: 'Trip' });

  it('tells the user, and goes back to the lobby', () => {
    const s = applyFrame(chat({ conversations: { 4: group }, selectedId: 4 }), { type: 'removed', conversation_id: 4 }, NOW);
    expect(s.selectedId).toBeNull();
    expect(s.notice).toBe('You were removed from “Trip”.');
  });

  it('keeps its notice when a receipt sent meanwhile is answered "not found"', () => {
    const removed = applyFrame(chat({ conversations: { 4: group }, selectedId: 4 }), { type: 'removed', conversation_id: 4 }, NOW);
    const s = applyFrame(removed, { type: 'error', code: 'not_found', message: 'Not found.' }, NOW);
    expect(s.notice).toBe('You were removed from “Trip”.');
  });

  it('is no news to a user who left', () => {
    const s = applyFrame(chat({ conversations: { 4: group }, selectedId: 4, leaving: [4] }), { type: 'removed', conversation_id: 4 }, NOW);
    expect(s.notice).toBeNull();
    expect(s.leaving).toEqual([]);
  });
});
