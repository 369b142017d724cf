import { describe, expect, it } from 'vitest';
import type { Conversation, Message } from '../api/types';
import { conv, msg } from '../logic/fixtures';
import type { PendingMessage } from '../logic/messages';
import type { ServerFrame } from '../realtime/frames';
import { applyFrame, expireTyping, TYPING_TTL_MS } from './reducer';
import type { ChatState, ConversationView } from './store';

// Alice (1) is signed in; Bob (2) writes to her in conversation 1, as in ../logic/fixtures.
const NOW = Date.UTC(2024, 4, 15, 12, 0);
const alice = { id: 1, username: 'alice', display_name: 'Alice' };

function state(over: Partial<ChatState> = {}): ChatState {
  return {
    me: alice,
    conversations: {},
    conversationsLoaded: true,
    views: {},
    outbox: [],
    uploads: [],
    mediaToken: null,
    typing: {},
    reads: {},
    delivered: {},
    leaving: [],
    presence: {},
    lastSeen: {},
    contacts: [],
    blocked: [],
    blocksLoaded: true,
    connection: { state: 'open' },
    selectedId: null,
    notice: null,
    pins: {},
    jump: null,
    unreadMarker: null,
    ...over,
  };
}

function view(messages: readonly Message[], over: Partial<ConversationView> = {}): ConversationView {
  return { messages, hasMoreBefore: false, loadingOlder: false, loaded: true, ...over };
}

function pending(clientId: string, over: Partial<PendingMessage> = {}): PendingMessage {
  return { conversation_id: 1, client_id: clientId, body: 'hello', created_at: '2024-05-15T11:59:00Z', status: 'pending', ...over };
}

/** Conversation 1 with Bob, open with messages 1–3, all read. */
function openChat(over: Partial<ChatState> = {}): ChatState {
  const messages = [msg(1), msg(2), msg(3)];
  return state({
    conversations: { 1: conv({ last_seq: 3, last_read_seq: 3, last_message: messages[2] }) },
    views: { 1: view(messages) },
    selectedId: 1,
    ...over,
  });
}

const apply = (s: ChatState, ...frames: ServerFrame[]) => frames.reduce((acc, f) => applyFrame(acc, f, NOW), s);
const seqs = (s: ChatState, id = 1) => s.views[id]?.messages.map((m) => m.seq);

describe('applyFrame: message', () => {
  it('appends a message for an open conversation after the ones held', () => {
    expect(seqs(apply(openChat(), { type: 'message', message: msg(4) }))).toEqual([1, 2, 3, 4]);
  });

  it('puts a message that arrives out of order in its place by seq', () => {
    const s = apply(openChat(), { type: 'message', message: msg(5) }, { type: 'message', message: msg(4) });
    expect(seqs(s)).toEqual([1, 2, 3, 4, 5]);
  });

  it('holds a seq once when the same message arrives twice', () => {
    const once = apply(openChat(), { type: 'message', message: msg(4) });
    const twice = apply(once, { type: 'message', message: msg(4) });
    expect(seqs(twice)).toEqual([1, 2, 3, 4]);
    expect(twice.views).toBe(once.views);
  });

  it("counts someone else's message as unread and makes it the conversation's last message", () => {
    const c = apply(openChat(), { type: 'message', message: msg(4) }).conversations[1];
    expect(c.unread_count).toBe(1);
    expect(c.last_seq).toBe(4);
    expect(c.last_message?.seq).toBe(4);
  });

  it('updates the summary, but not the messages, of a conversation whose history is not loaded yet', () => {
    const s = apply(openChat({ views: {} }), { type: 'message', message: msg(4) });
    expect(s.views[1]).toBeUndefined();
    expect(s.conversations[1].last_message?.seq).toBe(4);
  });

  it("ends the sender's typing indicator", () => {
    const typing = apply(openChat(), { type: 'typing', conversation_id: 1, user_id: 2, is_typing: true });
    expect(apply(typing, { type: 'message', message: msg(4) }).typing[1]).toEqual({});
  });

  it('is taken safely for a conversation the client does not know: no conversation or view is made up', () => {
    const before = openChat();
    const s = apply(before, { type: 'message', message: msg(1, { conversation_id: 9 }) });
    expect(s.conversations).toBe(before.conversations);
    expect(s.views).toBe(before.views);
  });
});

describe('applyFrame: ack', () => {
  const mine = msg(4, { sender_id: 1, sender_name: 'Alice', client_id: 'k1', body: 'hello' });
  const sending = () => openChat({ outbox: [pending('k1'), pending('k2', { body: 'later' })] });

  it('replaces the optimistic message with the stored one, matched by client_id', () => {
    const s = apply(sending(), { type: 'ack', client_id: 'k1', message: mine });
    expect(s.outbox.map((p) => p.client_id)).toEqual(['k2']);
    expect(s.views[1].messages.at(-1)).toEqual(mine);
  });

  it('is harmless when it comes twice', () => {
    const once = apply(sending(), { type: 'ack', client_id: 'k1', message: mine });
    const twice = apply(once, { type: 'ack', client_id: 'k1', message: mine });
    expect(twice).toEqual(once);
    expect(seqs(twice)).toEqual([1, 2, 3, 4]);
  });

  it('leaves my own message out of the unread count', () => {
    const c = apply(sending(), { type: 'ack', client_id: 'k1', message: mine }).conversations[1];
    expect(c.unread_count).toBe(0);
    expect(c.last_read_seq).toBe(4);
  });
});

describe('applyFrame: messages', () => {
  it('merges a page into the open conversation in seq order, each seq once', () => {
    const s = apply(openChat(), { type: 'messages', conversation_id: 1, messages: [msg(3), msg(4), msg(5)], has_more: false, has_newer: false });
    expect(seqs(s)).toEqual([1, 2, 3, 4, 5]);
  });

  it('settles pending messages of mine that the page shows stored', () => {
    const s = apply(openChat({ outbox: [pending('k1')] }), {
      type: 'messages',
      conversation_id: 1,
      messages: [msg(4, { sender_id: 1, client_id: 'k1' })],
      has_more: false,
      has_newer: false,
    });
    expect(s.outbox).toEqual([]);
  });

  it('changes nothing when the page is empty', () => {
    const s = openChat();
    expect(apply(s, { type: 'messages', conversation_id: 1, messages: [], has_more: false, has_newer: false })).toBe(s);
  });
});

describe('applyFrame: message_updated', () => {
  it('replaces the held copy with the edited one', () => {
    const edited = msg(2, { body: 'fixed', edited_at: '2024-05-15T11:00:00Z' });
    const s = apply(openChat(), { type: 'message_updated', message: edited });
    expect(s.views[1].messages[1]).toEqual(edited);
    expect(seqs(s)).toEqual([1, 2, 3]);
  });

  it("shows a deleted last message as the conversation's last message without counting it unread again", () => {
    const deleted = msg(3, { body: '', deleted: true, edited_at: '2024-05-15T11:00:00Z' });
    const c = apply(openChat(), { type: 'message_updated', message: deleted }).conversations[1];
    expect(c.last_message).toEqual(deleted);
    expect(c.unread_count).toBe(0);
  });
});

describe('applyFrame: typing', () => {
  const typing = (is_typing: boolean, user_id = 2): ServerFrame => ({ type: 'typing', conversation_id: 1, user_id, is_typing });

  it('shows someone typing until the indicator lapses', () => {
    expect(apply(openChat(), typing(true)).typing[1]).toEqual({ 2: NOW + TYPING_TTL_MS });
  });

  it('lapses once its time is up without a new typing frame', () => {
    const s = apply(openChat(), typing(true));
    expect(expireTyping(s, NOW + TYPING_TTL_MS - 1)).toBe(s);
    expect(expireTyping(s, NOW + TYPING_TTL_MS).typing[1]).toEqual({});
  });

  it('ends when the typer says they stopped', () => {
    expect(apply(openChat(), typing(true), typing(false)).typing[1]).toEqual({});
  });

  it('never shows my own typing (from another tab)', () => {
    const s = openChat();
    expect(apply(s, typing(true, 1))).toBe(s);
  });
});

describe('applyFrame: read', () => {
  const read = (up_to_seq: number): ServerFrame => ({ type: 'read', conversation_id: 1, user_id: 2, up_to_seq });

  it("moves a member's read position forward", () => {
    expect(apply(openChat(), read(2), read(3)).reads[1]).toEqual({ 2: 3 });
  });

  it("never moves a member's read position back", () => {
    const s = apply(openChat(), read(3));
    expect(apply(s, read(2))).toBe(s);
  });
});

describe('applyFrame: unread', () => {
  it("sets the conversation's unread count to what the server says", () => {
    const s = apply(openChat({ conversations: { 1: conv({ last_seq: 5, last_read_seq: 1, unread_count: 4 }) } }), {
      type: 'unread',
      conversation_id: 1,
      unread_count: 0,
      mention_count: 0,
    });
    expect(s.conversations[1].unread_count).toBe(0);
    expect(s.conversations[1].last_read_seq).toBe(5);
  });

  it('is ignored for a conversation the client does not know', () => {
    const s = openChat();
    expect(apply(s, { type: 'unread', conversation_id: 9, unread_count: 3, mention_count: 0 })).toBe(s);
  });
});

describe('applyFrame: presence', () => {
  it('records someone coming online and going offline', () => {
    const on = apply(openChat(), { type: 'presence', user_id: 2, online: true });
    expect(on.presence[2]).toBe(true);
    expect(apply(on, { type: 'presence', user_id: 2, online: false }).presence[2]).toBe(false);
  });

  it('ignores the presence of someone I blocked', () => {
    const s = openChat({ blocked: [{ id: 2, username: 'bob', display_name: 'Bob' }] });
    expect(apply(s, { type: 'presence', user_id: 2, online: true })).toBe(s);
  });
});

describe('applyFrame: conversation', () => {
  const group = (over: Partial<Conversation> = {}) =>
    conv({ id: 7, kind: 'group', title: 'Team', members: [...conv().members, { user: { id: 3, username: 'carol', display_name: 'Carol' }, role: 'member', last_read_seq: 0, last_delivered_seq: 0 }], ...over });

  it('adds a conversation the client did not have', () => {
    const s = apply(openChat(), { type: 'conversation', conversation: group() });
    expect(s.conversations[7]).toEqual(group());
  });

  it('keeps known presence when its members carry no online field', () => {
    const s = apply(openChat({ presence: { 2: true, 3: false } }), { type: 'conversation', conversation: group() });
    expect(s.presence).toEqual({ 2: true, 3: false });
  });

  it('takes the online field of members that carry one', () => {
    const c = group();
    const withOnline = { ...c, members: c.members.map((m) => (m.user.id === 3 ? { ...m, user: { ...m.user, online: true } } : m)) };
    expect(apply(openChat({ presence: { 3: false } }), { type: 'conversation', conversation: withOnline }).presence[3]).toBe(true);
  });

  it('keeps the newer last message and unread count when the frame is older than the live messages held', () => {
    const live = apply(openChat(), { type: 'message', message: msg(4) });
    const c = apply(live, { type: 'conversation', conversation: conv({ title: 'renamed', last_seq: 3, last_read_seq: 3 }) }).conversations[1];
    expect(c.title).toBe('renamed');
    expect(c.last_seq).toBe(4);
    expect(c.last_message?.seq).toBe(4);
    expect(c.unread_count).toBe(1);
  });

  it("moves members' read positions forward only", () => {
    const s = openChat({ reads: { 7: { 2: 5 } } });
    const c = group({ members: group().members.map((m) => ({ ...m, last_read_seq: m.user.id === 2 ? 3 : 4 })) });
    expect(apply(s, { type: 'conversation', conversation: c }).reads[7]).toEqual({ 1: 4, 2: 5, 3: 4 });
  });
});

describe('applyFrame: removed', () => {
  const removed: ServerFrame = { type: 'removed', conversation_id: 1 };

  it('drops the conversation, its messages, its typing and its unsent messages', () => {
    const other = pending('k9', { conversation_id: 2 });
    const s = apply(openChat({ outbox: [pending('k1'), other], typing: { 1: { 2: NOW + 1000 } } }), removed);
    expect(s.conversations[1]).toBeUndefined();
    expect(s.views[1]).toBeUndefined();
    expect(s.typing[1]).toBeUndefined();
    expect(s.outbox).toEqual([other]);
  });

  it('goes back to the lobby when the conversation was open', () => {
    expect(apply(openChat(), removed).selectedId).toBeNull();
  });

  it('is ignored for a conversation the client does not know', () => {
    const s = openChat();
    expect(apply(s, { type: 'removed', conversation_id: 9 })).toBe(s);
  });
});

describe('applyFrame: error', () => {
  it("marks the pending message with the error's client_id failed, with the error's text", () => {
    const s = apply(openChat({ outbox: [pending('k1'), pending('k2')] }), { type: 'error', client_id: 'k1', code: 'validation_failed', message: 'Too long.' });
    expect(s.outbox).toEqual([pending('k1', { status: 'failed', error: 'Too long.' }), pending('k2')]);
    expect(s.notice).toBeNull();
  });

  it('puts a refusal that a block explains in words', () => {
    const s = apply(openChat({ outbox: [pending('k1')] }), { type: 'error', client_id: 'k1', code: 'forbidden', message: 'forbidden' });
    expect(s.outbox[0].error).toBe("You can't send messages to this user.");
  });

  it("puts a send's unavailable attachment in words", () => {
    const s = apply(openChat({ outbox: [pending('k1')] }), { type: 'error', client_id: 'k1', code: 'attachment_unavailable', message: 'An attachment is not one of your unsent uploads to this conversation.' });
    expect(s.outbox[0].error).toBe('A file of this message is no longer available: discard this message and attach the file again.');
  });

  it('shows an error about no message as a notice', () => {
    expect(apply(openChat(), { type: 'error', code: 'rate_limited', message: 'Slow down.' }).notice).toBe('Slow down.');
  });

  it('is ignored for a client_id that is not in the outbox', () => {
    const s = openChat({ outbox: [pending('k1')] });
    expect(apply(s, { type: 'error', client_id: 'gone', code: 'validation_failed', message: 'Too long.' })).toBe(s);
  });
});

describe('applyFrame', () => {
  it('never changes the state it is given', () => {
    const frames: ServerFrame[] = [
      { type: 'ack', client_id: 'k1', message: msg(4, { sender_id: 1, client_id: 'k1' }) },
      { type: 'message', message: msg(5) },
      { type: 'messages', conversation_id: 1, messages: [msg(6)], has_more: false, has_newer: false },
      { type: 'message_updated', message: msg(2, { body: 'fixed', edited_at: '2024-05-15T11:00:00Z' }) },
      { type: 'typing', conversation_id: 1, user_id: 2, is_typing: true },
      { type: 'read', conversation_id: 1, user_id: 2, up_to_seq: 3 },
      { type: 'unread', conversation_id: 1, unread_count: 2, mention_count: 0 },
      { type: 'presence', user_id: 2, online: true },
      { type: 'conversation', conversation: conv({ title: 'x' }) },
      { type: 'removed', conversation_id: 1 },
      { type: 'error', client_id: 'k1', code: 'forbidden', message: 'no' },
      { type: 'error', code: 'internal', message: 'oops' },
    ];
    for (const f of frames) {
      const s = deepFreeze(openChat({ outbox: [pending('k1')], typing: { 1: { 3: NOW } } }));
      const before = JSON.stringify(s);
      expect(() => applyFrame(s, f, NOW), f.type).not.toThrow();
      expect(JSON.stringify(s), f.type).toBe(before);
    }
  });
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

describe('applyFrame: conversation features', () => {
  const thumbs = [{ emoji: '👍', count: 1, user_ids: [2] }];

  it('a reaction frame replaces the message’s reactions with its full list (view, last message, pins)', () => {
    const s0 = openChat({ pins: { 1: [{ message: msg(3), pinned_by: 2, pinned_at: '2024-05-15T11:00:00Z' }] } });
    const s = apply(s0, { type: 'reaction', conversation_id: 1, seq: 3, user_id: 2, emoji: '👍', added: true, reactions: thumbs });
    expect(s.views[1].messages[2].reactions).toEqual(thumbs);
    expect(s.conversations[1].last_message?.reactions).toEqual(thumbs);
    expect(s.pins[1][0].message.reactions).toEqual(thumbs);
    expect(s.views[1].messages[1]).toBe(s0.views[1].messages[1]);
    const off = apply(s, { type: 'reaction', conversation_id: 1, seq: 3, user_id: 2, emoji: '👍', added: false, reactions: [] });
    expect(off.views[1].messages[2].reactions).toEqual([]);
  });

  it('a reaction to a message not held changes nothing', () => {
    const s = openChat();
    expect(apply(s, { type: 'reaction', conversation_id: 1, seq: 99, user_id: 2, emoji: '👍', added: true, reactions: thumbs })).toBe(s);
  });

  it('catch-up pages bring newer reactions and quotes for messages already held', () => {
    const s = openChat();
    const next = apply(s, { type: 'messages', conversation_id: 1, has_more: false, has_newer: false, messages: [msg(2, { reactions: thumbs })] });
    expect(next.views[1].messages[1].reactions).toEqual(thumbs);
  });

  it('pin frames add a held message to the loaded pins (newest first) and unpin takes it out', () => {
    const s0 = openChat({ pins: { 1: [{ message: msg(1), pinned_by: 2, pinned_at: '2024-05-15T11:00:00Z' }] } });
    const s = apply(s0, { type: 'pin', conversation_id: 1, seq: 3, pinned: true, user_id: 1 });
    expect(s.pins[1].map((p) => p.message.seq)).toEqual([3, 1]);
    expect(s.pins[1][0]).toMatchObject({ pinned_by: 1, pinned_at: new Date(NOW).toISOString() });
    expect(apply(s, { type: 'pin', conversation_id: 1, seq: 3, pinned: true, user_id: 1 })).toBe(s);
    expect(apply(s, { type: 'pin', conversation_id: 1, seq: 1, pinned: false, user_id: 2 }).pins[1].map((p) => p.message.seq)).toEqual([3]);
    // Not loaded yet, or a message not held: left for the list to be read again.
    expect(apply(openChat(), { type: 'pin', conversation_id: 1, seq: 3, pinned: true, user_id: 1 }).pins).toEqual({});
    expect(apply(s0, { type: 'pin', conversation_id: 1, seq: 77, pinned: true, user_id: 1 })).toBe(s0);
  });

  it('a deleted message leaves the pins; an edited one shows its edit there', () => {
    const s0 = openChat({ pins: { 1: [{ message: msg(2), pinned_by: 2, pinned_at: '2024-05-15T11:00:00Z' }, { message: msg(3), pinned_by: 2, pinned_at: '2024-05-15T10:00:00Z' }] } });
    const edited = apply(s0, { type: 'message_updated', message: msg(2, { body: 'fixed', edited_at: '2024-05-15T11:30:00Z' }) });
    expect(edited.pins[1][0].message.body).toBe('fixed');
    const deleted = apply(edited, { type: 'message_updated', message: msg(3, { body: '', deleted: true, edited_at: '2024-05-15T11:31:00Z' }) });
    expect(deleted.pins[1].map((p) => p.message.seq)).toEqual([2]);
  });

  it('an edit or a delete of an original updates the quotes that answer it', () => {
    const reply = msg(4, { reply_to: { seq: 2, sender_id: 2, sender_name: 'Bob', excerpt: 'message 2', deleted: false } });
    const s0 = apply(openChat(), { type: 'message', message: reply });
    const s = apply(s0, { type: 'message_updated', message: msg(2, { body: '', deleted: true, edited_at: '2024-05-15T11:31:00Z' }) });
    expect(s.views[1].messages[3].reply_to).toMatchObject({ deleted: true, excerpt: '' });
  });

  it('a live message that mentions me counts in the @ badge; reading to the end clears it', () => {
    const s0 = openChat({ conversations: { 1: conv({ last_seq: 3, last_read_seq: 3, mention_count: 0 }) } });
    const s1 = apply(s0, { type: 'message', message: msg(4, { mentions: [1] }) }, { type: 'message', message: msg(5) }, { type: 'message', message: msg(6, { mentions: [3] }) });
    expect(s1.conversations[1]).toMatchObject({ unread_count: 3, mention_count: 1 });
    // My own message (from another tab) reads everything before it.
    const s2 = apply(s1, { type: 'message', message: msg(7, { sender_id: 1, mentions: [1] }) });
    expect(s2.conversations[1]).toMatchObject({ unread_count: 0, mention_count: 0 });
  });

  it('the unread frame carries the mention count; without one the held count stays, and is 0 once all is read', () => {
    const s0 = openChat({ conversations: { 1: conv({ last_seq: 5, last_read_seq: 3, unread_count: 2, mention_count: 1 }) } });
    expect(apply(s0, { type: 'unread', conversation_id: 1, unread_count: 1, mention_count: 0 } as ServerFrame).conversations[1]).toMatchObject({ unread_count: 1, mention_count: 0 });
    // From a server without mention counts:
    expect(apply(s0, { type: 'unread', conversation_id: 1, unread_count: 1 } as ServerFrame).conversations[1]).toMatchObject({ unread_count: 1, mention_count: 1 });
    expect(apply(s0, { type: 'unread', conversation_id: 1, unread_count: 0 } as ServerFrame).conversations[1]).toMatchObject({ unread_count: 0, mention_count: 0 });
  });

  it('conversation frames leave out my mention count and notification level: the held ones are kept', () => {
    const notifications = { level: 'mentions' as const, until: null };
    const s0 = openChat({ conversations: { 1: conv({ last_seq: 3, last_read_seq: 3, mention_count: 2, notifications }) } });
    const renamed = conv({ last_seq: 3, last_read_seq: 3, title: 'Renamed' });
    expect(apply(s0, { type: 'conversation', conversation: renamed }).conversations[1]).toMatchObject({ title: 'Renamed', mention_count: 2, notifications });
  });

  it('a notifications frame (another tab of mine) sets the level', () => {
    const s = apply(openChat(), { type: 'notifications', conversation_id: 1, notifications: { level: 'nothing', until: '2026-12-04T10:00:00Z' } });
    expect(s.conversations[1].notifications).toEqual({ level: 'nothing', until: '2026-12-04T10:00:00Z' });
    expect(apply(openChat(), { type: 'notifications', conversation_id: 9, notifications: { level: 'nothing', until: null } }).conversations[9]).toBeUndefined();
  });

  it('error frames about reactions and pins are put in words', () => {
    expect(apply(openChat(), { type: 'error', code: 'too_many_reactions', message: 'x' }).notice).toMatch(/20 different reactions/);
    expect(apply(openChat(), { type: 'error', code: 'too_many_pins', message: 'x' }).notice).toMatch(/50 pinned messages/);
  });

  it('forgetting a conversation drops its pins', () => {
    const s = openChat({ pins: { 1: [] } });
    expect(apply(s, { type: 'removed', conversation_id: 1 }).pins).toEqual({});
  });
});
