import { describe, expect, it } from 'vitest';
import { conversationLabel } from './labels';

describe('conversationLabel', () => {
  it('holds the visible text (title, last message, time) and what only icons show', () => {
    expect(conversationLabel({ title: 'Bob Builder', preview: 'See you', stamp: '10:42', unread: 3, mentions: 1, muted: true, online: true })).toBe(
      'Bob Builder, 3 unread, 1 mention, muted, online, See you, 10:42',
    );
    expect(conversationLabel({ title: 'Team', preview: 'No messages yet', stamp: '', unread: 0, mentions: 0, muted: false, online: false })).toBe('Team, No messages yet');
  });
});
