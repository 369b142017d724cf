import { describe, expect, it } from 'vitest';
import { conv, msg } from '../logic/fixtures';
import type { ServerFrame } from '../realtime/frames';
import { applyFrame } from './reducer';
import { emptyView, initialState, type ChatState } from './store';

// Alice (1) is signed in; Bob (2) shares conversation 1 with her, as in ../logic/fixtures.
const NOW = Date.UTC(2024, 4, 15, 12, 0);
const alice = { id: 1, username: 'alice', display_name: 'Alice' };
const bob = { id: 2, username: 'bob', display_name: 'Bob' };
const robert = { id: 2, username: 'bob', display_name: 'Robert Smith' };

function withBob(over: Partial<ChatState> = {}): ChatState {
  const quote = { seq: 1, sender_id: 2, sender_name: 'Bob', excerpt: 'hi', deleted: false };
  const messages = [msg(1), msg(2, { sender_id: 1, sender_name: 'Alice', reply_to: quote })];
  const c = conv({ last_message: messages[1], last_seq: 2 });
  return {
    ...initialState(alice, []),
    conversations: { 1: c },
    views: { 1: { ...emptyView(), loaded: true, messages } },
    pins: { 1: [{ message: messages[0], pinned_by: 1, pinned_at: '2024-05-15T10:00:00Z' }] },
    contacts: [bob],
    ...over,
  };
}

const apply = (s: ChatState, f: unknown) => applyFrame(s, f as ServerFrame, NOW);

describe('user frames', () => {
  it("rewrite every held copy of the person's name: member, sender, quoted sender, last message, pin, contact", () => {
    const s = apply(withBob(), { type: 'user', user: robert });
    const c = s.conversations[1];
    expect(c.members.find((m) => m.user.id === 2)?.user.display_name).toBe('Robert Smith');
    expect(c.members.find((m) => m.user.id === 1)?.user.display_name).toBe('Alice');
    expect(s.views[1].messages[0].sender_name).toBe('Robert Smith');
    expect(s.views[1].messages[1].sender_name).toBe('Alice');
    expect(s.views[1].messages[1].reply_to?.sender_name).toBe('Robert Smith');
    expect(c.last_message?.reply_to?.sender_name).toBe('Robert Smith');
    expect(s.pins[1][0].message.sender_name).toBe('Robert Smith');
    expect(s.contacts).toEqual([robert]);
    expect(s.me).toBe(withBob().me);
  });

  it('my own new name (from another tab) becomes `me`', () => {
    const s = apply(withBob(), { type: 'user', user: { ...alice, display_name: 'Alice Liddell' } });
    expect(s.me.display_name).toBe('Alice Liddell');
    expect(s.conversations[1].members[0].user.display_name).toBe('Alice Liddell');
    expect(s.views[1].messages[1].sender_name).toBe('Alice Liddell');
  });

  it('are no news when nothing changed (the same state spares a render)', () => {
    const s = withBob();
    expect(apply(s, { type: 'user', user: bob })).toBe(s);
    expect(apply(s, { type: 'user', user: { id: 7, username: 'zed', display_name: 'Zed' } })).toBe(s);
  });

  it('bring presence and last seen along, except from someone we blocked', () => {
    const t = '2024-05-15T11:55:00Z';
    const s = apply(withBob(), { type: 'user', user: { ...robert, online: false, last_seen_at: t } });
    expect(s.presence[2]).toBe(false);
    expect(s.lastSeen[2]).toBe(t);
    const blocked = apply(withBob({ blocked: [bob] }), { type: 'user', user: { ...robert, online: false, last_seen_at: t } });
    expect(blocked.presence[2]).toBeUndefined();
    expect(blocked.lastSeen[2]).toBeUndefined();
    expect(blocked.blocked[0].display_name).toBe('Robert Smith');
  });
});

describe('presence frames with last seen', () => {
  it('going offline records when; coming back keeps it and only flips online', () => {
    const t = '2024-05-15T11:58:00Z';
    const off = apply(withBob(), { type: 'presence', user_id: 2, online: false, last_seen_at: t });
    expect(off.presence[2]).toBe(false);
    expect(off.lastSeen[2]).toBe(t);
    const on = apply(off, { type: 'presence', user_id: 2, online: true });
    expect(on.presence[2]).toBe(true);
    expect(on.lastSeen).toBe(off.lastSeen);
    expect(apply(on, { type: 'presence', user_id: 2, online: true })).toBe(on);
  });

  it('a server without last seen still flips presence', () => {
    const s = apply(withBob(), { type: 'presence', user_id: 2, online: false });
    expect(s.presence[2]).toBe(false);
    expect(s.lastSeen).toEqual({});
  });

  it('say nothing about someone we blocked', () => {
    const s = withBob({ blocked: [bob] });
    expect(apply(s, { type: 'presence', user_id: 2, online: false, last_seen_at: '2024-05-15T11:58:00Z' })).toBe(s);
  });

  it('REST conversations carry last seen into the state', () => {
    const t = '2024-05-15T09:00:00Z';
    const c = conv({ id: 3, members: [{ user: alice, role: 'member', last_read_seq: 0, last_delivered_seq: 0 }, { user: { ...bob, online: false, last_seen_at: t } as typeof bob, role: 'member', last_read_seq: 0, last_delivered_seq: 0 }] });
    const s = apply(withBob(), { type: 'conversation', conversation: c });
    expect(s.lastSeen[2]).toBe(t);
  });
});
