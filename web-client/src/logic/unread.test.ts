import { describe, expect, it } from 'vitest';
import { conv, msg } from './fixtures';
import { seenBy, sortByActivity, tabTitle, tickFor, totalUnread, unreadMarkerFor, withNewMessage, withReadUpTo, withUnreadCount } from './unread';

describe('totalUnread and the tab title', () => {
  it('sums unread counts across conversations', () => {
    expect(totalUnread([{ unread_count: 2 }, { unread_count: 0 }, { unread_count: 1 }])).toBe(3);
    expect(totalUnread([])).toBe(0);
  });
  it('ignores a negative count from a confused source', () => {
    expect(totalUnread([{ unread_count: -4 }, { unread_count: 1 }])).toBe(1);
  });
  it('puts the total in the title, or nothing when all is read', () => {
    expect(tabTitle(3)).toBe('(3) Chat');
    expect(tabTitle(0)).toBe('Chat');
    expect(tabTitle(12345)).toBe('(999+) Chat');
  });
});

describe('unread bookkeeping per conversation', () => {
  it('counts a message from someone else as unread', () => {
    const c = withNewMessage(conv({ last_seq: 4, last_read_seq: 4 }), msg(5), 1);
    expect(c.unread_count).toBe(1);
    expect(c.last_seq).toBe(5);
    expect(c.last_message?.seq).toBe(5);
  });
  it('does not count my own message, and it moves my read position', () => {
    const c = withNewMessage(conv({ last_seq: 4, last_read_seq: 2, unread_count: 2 }), msg(5, { sender_id: 1 }), 1);
    expect(c.unread_count).toBe(0);
    expect(c.last_read_seq).toBe(5);
  });
  it('never moves backwards for an old message', () => {
    const start = withNewMessage(conv(), msg(7), 1);
    const c = withNewMessage(start, msg(3), 1);
    expect(c.last_seq).toBe(7);
    expect(c.last_message?.seq).toBe(7);
  });
  it('reading up to a seq leaves the rest unread', () => {
    const c = withReadUpTo(conv({ last_seq: 10, last_read_seq: 2, unread_count: 8 }), 7);
    expect(c.unread_count).toBe(3);
    expect(withReadUpTo(c, 5)).toBe(c);
  });
  it('adopts the count the server sends', () => {
    const c = withUnreadCount(conv({ last_seq: 10, last_read_seq: 2, unread_count: 8 }), 0);
    expect(c.unread_count).toBe(0);
    expect(c.last_read_seq).toBe(10);
  });
});

describe('sortByActivity', () => {
  it('puts the conversation with the newest message first, falling back to creation time', () => {
    const a = conv({ id: 1, last_message: msg(1, { created_at: '2024-05-15T10:00:00Z' }) });
    const b = conv({ id: 2, last_message: msg(1, { created_at: '2024-05-15T11:00:00Z' }) });
    const c = conv({ id: 3, created_at: '2024-05-15T10:30:00Z' });
    expect(sortByActivity([a, b, c]).map((x) => x.id)).toEqual([2, 3, 1]);
  });
});

describe('tickFor', () => {
  it('is read only when every other member has read that far', () => {
    expect(tickFor(5, [2], { 2: 5 })).toBe('read');
    expect(tickFor(5, [2], { 2: 4 })).toBe('sent');
    expect(tickFor(5, [2, 3], { 2: 9 })).toBe('sent');
    expect(tickFor(5, [2, 3], { 2: 9, 3: 5 })).toBe('read');
    expect(tickFor(5, [2], {})).toBe('sent');
  });
  it('is delivered once every other member has received it, and not before', () => {
    expect(tickFor(5, [2], {}, { 2: 5 })).toBe('delivered');
    expect(tickFor(5, [2, 3], {}, { 2: 5, 3: 4 })).toBe('sent');
  });
  it('counts a member who read it as having received it', () => {
    expect(tickFor(5, [2, 3], { 2: 5 }, { 3: 7 })).toBe('delivered');
  });
  it('is read over delivered once everyone read it', () => {
    expect(tickFor(5, [2], { 2: 5 }, { 2: 5 })).toBe('read');
  });
});

describe('unreadMarkerFor', () => {
  it('puts the line after what was read, counting the unread', () => {
    expect(unreadMarkerFor(conv({ id: 4, last_seq: 60, last_read_seq: 20, unread_count: 40 }))).toEqual({ conversationId: 4, afterSeq: 20, count: 40 });
  });
  it('has no line when all is read', () => {
    expect(unreadMarkerFor(conv({ last_seq: 60, last_read_seq: 60, unread_count: 0 }))).toBeNull();
  });
});

describe('seenBy', () => {
  const others = [
    { id: 2, name: 'Bob' },
    { id: 3, name: 'Carol' },
    { id: 4, name: 'Dan' },
  ];

  it('names the members who have read up to the seq, in member order', () => {
    expect(seenBy(5, others, { 4: 9, 2: 5, 3: 4 })).toEqual(['Bob', 'Dan']);
  });

  it('is empty when no one has read that far, or positions are unknown', () => {
    expect(seenBy(5, others, { 2: 4 })).toEqual([]);
    expect(seenBy(1, others, {})).toEqual([]);
  });
});
