import { describe, expect, it } from 'vitest';
import type { Member, Message } from '../api/types';
import { msg } from './fixtures';
import { lastEditable } from './messages';
import { eventPreview, eventText, isEvent, removedNotice, type EventMessage } from './timeline';

const member = (id: number, name: string): Member => ({ user: { id, username: name.toLowerCase(), display_name: name }, role: 'member', last_read_seq: 0, last_delivered_seq: 0 });
const members = [member(1, 'Alice'), member(2, 'Bob')];
const ev = (event: Message['event'], sender_id = 1, sender_name = 'Alice') => msg(5, { sender_id, sender_name, body: '', event }) as EventMessage;

describe('eventText', () => {
  it('says who created the group, with its title', () => {
    expect(eventText(ev({ type: 'created', title: 'Trip' }), members)).toBe('Alice created the group “Trip”');
  });
  it('says who added whom', () => {
    expect(eventText(ev({ type: 'member_added', user_id: 3, user_name: 'Carol' }), members)).toBe('Alice added Carol');
  });
  it('says who removed whom', () => {
    expect(eventText(ev({ type: 'member_removed', user_id: 3, user_name: 'Carol' }), members)).toBe('Alice removed Carol');
  });
  it('says who left (the actor is the one who went)', () => {
    expect(eventText(ev({ type: 'member_left' }, 3, 'Carol'), members)).toBe('Carol left');
  });
  it('says the new name of a renamed group', () => {
    expect(eventText(ev({ type: 'renamed', title: 'Hike' }), members)).toBe('Alice renamed the group to “Hike”');
  });
  it("uses a member's current name over the one the event recorded", () => {
    expect(eventText(ev({ type: 'member_added', user_id: 2, user_name: 'Bobby' }, 1, 'Al'), members)).toBe('Alice added Bob');
  });
});

describe('events among messages', () => {
  it('are told from messages by their event', () => {
    expect(isEvent(ev({ type: 'member_left' }))).toBe(true);
    expect(isEvent(msg(1))).toBe(false);
  });
  it('preview as their line, and a message has no event preview', () => {
    expect(eventPreview(ev({ type: 'renamed', title: 'X' }), members)).toBe('Alice renamed the group to “X”');
    expect(eventPreview(msg(1), members)).toBeNull();
  });
  it('are never the own last message that Up edits', () => {
    const list = [msg(1, { sender_id: 1 }), msg(2, { sender_id: 1, body: '', event: { type: 'renamed', title: 'X' } })];
    expect(lastEditable(list, 1)).toBe(1);
  });
});

describe('removedNotice', () => {
  it('names the group the user was taken out of', () => {
    expect(removedNotice('Trip')).toBe('You were removed from “Trip”.');
  });
});
