import { describe, expect, it } from 'vitest';
import { blockRefusalMessage, isBlocked, withBlocked, withoutBlocked } from './blocks';

const bob = { id: 2, username: 'bob', display_name: 'Bob' };
const amy = { id: 3, username: 'amy', display_name: 'Amy' };

describe('blockRefusalMessage', () => {
  it('reminds the blocker of their own block, whatever they tried', () => {
    for (const action of ['direct', 'contact', 'add_member', 'send'] as const) {
      expect(blockRefusalMessage(403, 'blocked_by_you', action)).toBe('You have blocked this user — unblock them first.');
    }
  });
  it('speaks of "one of these people" when a new group names several', () => {
    expect(blockRefusalMessage(403, 'blocked_by_you', 'create_group')).toBe('You have blocked one of these people — unblock them first.');
    expect(blockRefusalMessage(403, 'forbidden', 'create_group')).toBe("You can't add one of these people.");
  });
  it('tells the other side only that it cannot, fitting what they tried', () => {
    expect(blockRefusalMessage(403, 'forbidden', 'contact')).toBe("You can't add this user.");
    expect(blockRefusalMessage(403, 'forbidden', 'add_member')).toBe("You can't add this user.");
    expect(blockRefusalMessage(403, 'forbidden', 'direct')).toBe("You can't start a conversation with this user.");
    expect(blockRefusalMessage(403, 'forbidden', 'send')).toBe("You can't send messages to this user.");
  });
  it('leaves other answers to their own message', () => {
    expect(blockRefusalMessage(404, 'not_found', 'direct')).toBeNull();
    expect(blockRefusalMessage(422, 'validation_failed', 'contact')).toBeNull();
    expect(blockRefusalMessage(403, 'wrong_password', 'send')).toBeNull();
  });
});

describe('the block list', () => {
  it('adds a user once, sorted by username like the server list', () => {
    const list = withBlocked([bob], amy);
    expect(list.map((u) => u.username)).toEqual(['amy', 'bob']);
    expect(withBlocked(list, bob)).toBe(list);
    expect(isBlocked(list, amy.id)).toBe(true);
  });
  it('drops a user on unblock; unblocking someone not blocked changes nothing', () => {
    const list = [amy, bob];
    expect(withoutBlocked(list, bob.id)).toEqual([amy]);
    expect(withoutBlocked(list, 99)).toBe(list);
  });
});
