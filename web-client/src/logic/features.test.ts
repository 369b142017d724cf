import { describe, expect, it } from 'vitest';
import type { Member, SearchHit } from '../api/types';
import { conv, msg } from './fixtures';
import { activeMention, insertMention, mentionCandidates, mentionParts, mentionsMe } from './mentions';
import { effectiveLevel, isMuted, levelSummary, shouldNotify, untilFor } from './notifications';
import { chipLabel, PALETTE, pickerEmojis, reactionRefusal, reactorsText, toggledReactions } from './reactions';
import { quoteText, refreshQuotes, replyPreviewOf } from './replies';
import { hitKey, searchable, snippetOf, withPage } from './search';

const member = (id: number, username: string, display: string): Member => ({ user: { id, username, display_name: display }, role: 'member', last_read_seq: 0, last_delivered_seq: 0 });
const members = [member(1, 'alice', 'Alice Liddell'), member(2, 'bob', 'Bob Builder'), member(3, 'carol', 'Carol Chen'), member(4, 'bobby.t', 'Robert Tables')];
const NOW = Date.UTC(2026, 11, 4, 9, 0);

describe('replies', () => {
  it('previews a held message as the server would: the first 100 characters, nothing of a deleted one', () => {
    const long = msg(7, { body: 'x'.repeat(150) });
    expect(replyPreviewOf(long)).toEqual({ seq: 7, sender_id: 2, sender_name: 'Bob', excerpt: 'x'.repeat(100), deleted: false });
    expect(replyPreviewOf(msg(8, { deleted: true, body: '' }))).toMatchObject({ excerpt: '', deleted: true });
    // Characters, not UTF-16 units: an emoji is never cut in half.
    expect(Array.from(replyPreviewOf(msg(9, { body: '😀'.repeat(120) })).excerpt)).toHaveLength(100);
  });

  it('a quote says "Deleted message" for a deleted original, and what an attachment-only one carried', () => {
    expect(quoteText({ seq: 1, sender_id: 2, sender_name: 'Bob', excerpt: '', deleted: true })).toBe('Deleted message');
    expect(quoteText({ seq: 1, sender_id: 2, sender_name: 'Bob', excerpt: 'hi', deleted: false })).toBe('hi');
    const photo = msg(1, { body: '', attachments: [{ id: 'a', name: 'p.png', content_type: 'image/png', size: 10, width: 1, height: 1 } as never] });
    expect(quoteText({ seq: 1, sender_id: 2, sender_name: 'Bob', excerpt: '', deleted: false }, photo)).not.toBe('Message');
  });

  it('quotes follow their original when it is edited or deleted', () => {
    const reply = msg(5, { reply_to: { seq: 2, sender_id: 2, sender_name: 'Bob', excerpt: 'old', deleted: false } });
    const held = [msg(2, { body: 'old' }), reply];
    expect(refreshQuotes(held, [msg(2, { body: 'old' })])).toBe(held);
    expect(refreshQuotes(held, [msg(2, { body: 'new' })])[1].reply_to).toMatchObject({ excerpt: 'new', deleted: false });
    expect(refreshQuotes(held, [msg(2, { body: '', deleted: true })])[1].reply_to).toMatchObject({ excerpt: '', deleted: true });
  });
});

describe('reactions', () => {
  const thumbs = { emoji: '👍', count: 3, user_ids: [2, 1, 3] };
  it('the picker offers the palette, then what is on the message besides', () => {
    expect(pickerEmojis([])).toEqual([...PALETTE]);
    expect(pickerEmojis([thumbs, { emoji: '🦀', count: 1, user_ids: [2] }])).toEqual([...PALETTE, '🦀']);
  });

  it('says who reacted, me first, with names from the members', () => {
    expect(reactorsText(thumbs, members, 1)).toBe('You, Bob Builder and Carol Chen reacted with 👍');
    expect(reactorsText({ emoji: '🎉', count: 1, user_ids: [2] }, members, 1)).toBe('Bob Builder reacted with 🎉');
    expect(reactorsText({ emoji: '🎉', count: 5, user_ids: [1, 2, 3, 4, 99] }, members, 1)).toBe('You, Bob Builder, Carol Chen and 2 others reacted with 🎉');
    expect(chipLabel(thumbs, 1)).toBe('👍 3 reactions, including yours');
    expect(chipLabel({ emoji: '👀', count: 1, user_ids: [2] }, 1)).toBe('👀 1 reaction');
  });

  it('toggles mine in and out (the guess shown until the server answers)', () => {
    const one = toggledReactions([], '👍', 1, true);
    expect(one).toEqual([{ emoji: '👍', count: 1, user_ids: [1] }]);
    expect(toggledReactions(one, '👍', 1, true)).toEqual(one);
    expect(toggledReactions(one, '👍', 1, false)).toEqual([]);
    expect(toggledReactions([thumbs], '👍', 1, false)).toEqual([{ emoji: '👍', count: 2, user_ids: [2, 3] }]);
    expect(toggledReactions([{ emoji: '👍', count: 1, user_ids: [2] }], '👍', 1, true)).toEqual([{ emoji: '👍', count: 2, user_ids: [2, 1] }]);
  });

  it('puts refusals in words', () => {
    expect(reactionRefusal('too_many_reactions')).toMatch(/20 different reactions/);
    expect(reactionRefusal('validation_failed', 'emoji')).toBe('That is not a single emoji.');
    expect(reactionRefusal('validation_failed', 'body')).toBeNull();
    expect(reactionRefusal('forbidden')).toBeNull();
  });
});

describe('mentions', () => {
  it('finds the @word being typed at the caret, only at a word start', () => {
    expect(activeMention('hi @bo', 6)).toEqual({ start: 3, query: 'bo' });
    expect(activeMention('@', 1)).toEqual({ start: 0, query: '' });
    expect(activeMention('mail a@b', 8)).toBeNull();
    expect(activeMention('hi @bob there', 13)).toBeNull();
    expect(activeMention('(@ca', 4)).toEqual({ start: 1, query: 'ca' });
  });

  it('offers members by username, then by a word of the display name; never me', () => {
    expect(mentionCandidates(members, 'bo', 1).map((u) => u.username)).toEqual(['bob', 'bobby.t']);
    expect(mentionCandidates(members, 'chen', 1).map((u) => u.username)).toEqual(['carol']);
    expect(mentionCandidates(members, 'rob', 1).map((u) => u.username)).toEqual(['bobby.t']);
    expect(mentionCandidates(members, '', 1).map((u) => u.username)).toEqual(['bob', 'carol', 'bobby.t']);
    expect(mentionCandidates(members, 'ali', 1)).toEqual([]);
  });

  it('puts the picked username in place of what was typed, with a space after where none follows', () => {
    expect(insertMention('hi @bo', { start: 3, query: 'bo' }, 6, 'bobby.t')).toEqual({ text: 'hi @bobby.t ', caret: 12 });
    expect(insertMention('@ca, look', { start: 0, query: 'ca' }, 3, 'carol')).toEqual({ text: '@carol, look', caret: 6 });
    expect(insertMention('x @b later', { start: 2, query: 'b' }, 4, 'bob')).toEqual({ text: 'x @bob later', caret: 7 });
  });

  it('cuts a body into text and the @usernames of members; unknown names and addresses stay text', () => {
    expect(mentionParts('hey @Bob and @nobody, mail me@bob.com. @carol.', members)).toEqual([
      { text: 'hey ' },
      { text: '@Bob', mention: members[1].user },
      { text: ' and @nobody, mail me@bob.com. ' },
      { text: '@carol', mention: members[2].user },
      { text: '.' },
    ]);
    expect(mentionParts('@bobby.t!', members)[0]).toEqual({ text: '@bobby.t', mention: members[3].user });
    expect(mentionParts('no mentions', members)).toEqual([{ text: 'no mentions' }]);
  });

  it('knows a message that mentions me (not once it is deleted)', () => {
    expect(mentionsMe(msg(1, { mentions: [1] }), 1)).toBe(true);
    expect(mentionsMe(msg(1, { mentions: [3] }), 1)).toBe(false);
    expect(mentionsMe(msg(1, { mentions: [1], deleted: true }), 1)).toBe(false);
    expect(mentionsMe({ deleted: false, mentions: [] }, 1)).toBe(false);
  });
});

describe('notification levels', () => {
  const at = (level: 'all' | 'mentions' | 'nothing', until: string | null = null) => conv({ notifications: { level, until } });
  const later = new Date(NOW + 3_600_000).toISOString();
  const earlier = new Date(NOW - 1).toISOString();

  it('a level whose until has passed is "all" again', () => {
    expect(effectiveLevel(undefined, NOW)).toBe('all');
    expect(effectiveLevel({ level: 'mentions', until: later }, NOW)).toBe('mentions');
    expect(effectiveLevel({ level: 'nothing', until: earlier }, NOW)).toBe('all');
    expect(effectiveLevel({ level: 'nothing', until: null }, NOW)).toBe('nothing');
    expect(isMuted(at('mentions', later), NOW)).toBe(true);
    expect(isMuted(at('mentions', earlier), NOW)).toBe(false);
  });

  it('all: every message from others; mentions: only those that mention me; nothing: none', () => {
    const plain = msg(4);
    const mention = msg(5, { mentions: [1] });
    const mine = msg(6, { sender_id: 1 });
    expect(shouldNotify(plain, at('all'), 1, NOW)).toBe(true);
    expect(shouldNotify(mine, at('all'), 1, NOW)).toBe(false);
    expect(shouldNotify(plain, at('mentions'), 1, NOW)).toBe(false);
    expect(shouldNotify(mention, at('mentions'), 1, NOW)).toBe(true);
    expect(shouldNotify(mention, at('nothing'), 1, NOW)).toBe(false);
    expect(shouldNotify(plain, at('nothing', earlier), 1, NOW)).toBe(true);
    expect(shouldNotify(plain, undefined, 1, NOW)).toBe(true);
  });

  it('mute choices end in 1 or 8 hours, or never; the summary says until when', () => {
    expect(untilFor('1h', NOW)).toBe(new Date(NOW + 3_600_000).toISOString());
    expect(untilFor('8h', NOW)).toBe(new Date(NOW + 8 * 3_600_000).toISOString());
    expect(untilFor('forever', NOW)).toBeNull();
    expect(levelSummary({ level: 'mentions', until: later }, NOW, () => '10:00')).toBe('Mentions only until 10:00');
    expect(levelSummary({ level: 'nothing', until: null }, NOW, () => '')).toBe('Nothing');
    expect(levelSummary({ level: 'nothing', until: earlier }, NOW, () => '')).toBe('All messages');
  });
});

describe('search', () => {
  const hit = (conversation_id: number, seq: number): SearchHit => ({
    message: msg(seq, { conversation_id, body: `about rust ${seq}` }),
    snippet: [
      { text: 'about ', highlight: false },
      { text: 'rust', highlight: true },
    ],
  });

  it('sends two characters or more', () => {
    expect(searchable(' a ')).toBe(false);
    expect(searchable('ab')).toBe(true);
  });

  it('appends pages without repeating a (conversation, seq)', () => {
    const first = withPage([], { results: [hit(1, 5), hit(2, 5)], next_before: 'c1' });
    expect(first.map(hitKey)).toEqual(['1:5', '2:5']);
    const more = withPage(first, { results: [hit(2, 5), hit(1, 3)], next_before: null });
    expect(more.map(hitKey)).toEqual(['1:5', '2:5', '1:3']);
  });

  it('shows the snippet parts, or the start of the body without any', () => {
    expect(snippetOf(hit(1, 5))).toEqual([
      { text: 'about ', highlight: false },
      { text: 'rust', highlight: true },
    ]);
    expect(snippetOf({ message: msg(1, { body: 'plain' }), snippet: [] })).toEqual([{ text: 'plain', highlight: false }]);
  });
});
