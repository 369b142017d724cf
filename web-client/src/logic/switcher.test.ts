import { describe, expect, it } from 'vitest';
import { matchConversations } from './switcher';

const list = [
  { id: 1, title: 'Bob Builder' },
  { id: 2, title: 'Reading group' },
  { id: 3, title: 'Rob' },
  { id: 4, title: 'Carol Chen' },
];

describe('matchConversations', () => {
  it('puts titles starting with the text first, then a word, then anywhere', () => {
    expect(matchConversations(list, 'gr').map((c) => c.id)).toEqual([2]);
    expect(matchConversations(list, 'ro').map((c) => c.id)).toEqual([3, 2, 4]);
    expect(matchConversations(list, 'b').map((c) => c.id)).toEqual([1, 3]);
    expect(matchConversations(list, 'CHEN').map((c) => c.id)).toEqual([4]);
  });

  it('lists the latest conversations when nothing is typed, up to the limit', () => {
    expect(matchConversations(list, ' ', 2).map((c) => c.id)).toEqual([1, 2]);
  });
});
