import { describe, expect, it } from 'vitest';
import { conv } from './fixtures';
import { membersOfUnknownPresence, presenceOf, withPresenceOf } from './presence';

const alice = { id: 1, username: 'alice', display_name: 'Alice' };
const bob = { id: 2, username: 'bob', display_name: 'Bob' };

describe('withPresenceOf', () => {
  it('keeps known presence when users carry no online field (conversation frames never do)', () => {
    const known = { 2: true };
    expect(withPresenceOf(known, [bob])).toBe(known);
  });
  it('takes the online field where the server gives one', () => {
    expect(withPresenceOf({ 2: true }, [{ ...bob, online: false }])).toEqual({ 2: false });
  });
  it('treats null as no news, like a missing field', () => {
    expect(withPresenceOf({ 2: true }, [{ ...bob, online: null }])).toEqual({ 2: true });
  });
  it('returns the same object when nothing changed, so the store does not re-render', () => {
    const known = { 2: true };
    expect(withPresenceOf(known, [{ ...bob, online: true }])).toBe(known);
  });
});

describe('presenceOf', () => {
  it('prefers what presence frames said over a user object that may be older', () => {
    expect(presenceOf({ 2: false }, { ...bob, online: true })).toBe(false);
  });
  it('falls back to the user object, and is unknown (not offline) when neither says', () => {
    expect(presenceOf({}, { ...bob, online: true })).toBe(true);
    expect(presenceOf({}, bob)).toBeUndefined();
  });
});

describe('membersOfUnknownPresence', () => {
  it('lists the others whose presence nobody told us, never me', () => {
    const c = conv({ members: [{ user: alice, role: 'member', last_read_seq: 0, last_delivered_seq: 0 }, { user: bob, role: 'member', last_read_seq: 0, last_delivered_seq: 0 }] });
    expect(membersOfUnknownPresence(c, {}, alice.id)).toEqual([bob.id]);
    expect(membersOfUnknownPresence(c, { 2: false }, alice.id)).toEqual([]);
  });
});
