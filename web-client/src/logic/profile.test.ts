import { describe, expect, it } from 'vitest';
import { conv, msg } from './fixtures';
import { currentName, displayNameProblem, displayNameRefusal, renamed, renamedMessage, renamedMessages } from './profile';

const robert = { id: 2, username: 'bob', display_name: 'Robert Smith' };

describe('displayNameProblem', () => {
  it('takes 1–64 characters after trimming', () => {
    expect(displayNameProblem('  Robert Smith ')).toBeNull();
    expect(displayNameProblem('x'.repeat(64))).toBeNull();
    expect(displayNameProblem('   ')).toBe('Enter a display name.');
    expect(displayNameProblem('x'.repeat(65))).toBe('A display name has at most 64 characters (this one has 65).');
  });

  it('counts characters, not UTF-16 units: 64 emoji are allowed', () => {
    expect(displayNameProblem('😀'.repeat(64))).toBeNull();
    expect(displayNameProblem('😀'.repeat(65))).toContain('this one has 65');
  });
});

describe('displayNameRefusal', () => {
  it("puts a 422 on display_name at the field, in the server's words", () => {
    expect(displayNameRefusal({ status: 422, code: 'validation_failed', message: 'display_name must be 1–64 characters', field: 'display_name' })).toEqual({
      field: 'Not accepted: display_name must be 1–64 characters',
      form: null,
    });
  });

  it('puts anything else under the form', () => {
    expect(displayNameRefusal({ status: 429, code: 'rate_limited', message: 'slow down' }).form).toMatch(/Try again/);
    expect(displayNameRefusal({ status: 500, code: 'internal', message: 'boom' })).toEqual({ field: null, form: 'boom' });
  });
});

describe('names by id', () => {
  it("a quote's sender is named from the members first, the quoted name only as the fallback", () => {
    const members = conv({ members: [{ user: robert, role: 'member', last_read_seq: 0, last_delivered_seq: 0 }] }).members;
    expect(currentName(members, 2, 'Bob')).toBe('Robert Smith');
    expect(currentName(members, 9, 'Carol (left)')).toBe('Carol (left)');
  });

  it('renames a person and keeps their other fields; another person is returned as is', () => {
    const held = { id: 2, username: 'bob', display_name: 'Bob', online: true };
    expect(renamed(held, robert)).toEqual({ id: 2, username: 'bob', display_name: 'Robert Smith', online: true });
    const alice = { id: 1, username: 'alice', display_name: 'Alice' };
    expect(renamed(alice, robert)).toBe(alice);
    expect(renamed(robert, { ...robert })).toBe(robert);
  });

  it("renames a message's sender and its quote's sender, each only when it is them", () => {
    const quoteOfBob = { seq: 1, sender_id: 2, sender_name: 'Bob', excerpt: 'hi', deleted: false };
    const byBob = msg(2, { reply_to: quoteOfBob });
    expect(renamedMessage(byBob, robert)).toMatchObject({ sender_name: 'Robert Smith', reply_to: { sender_name: 'Robert Smith', excerpt: 'hi' } });
    const aliceQuotingBob = msg(3, { sender_id: 1, sender_name: 'Alice', reply_to: quoteOfBob });
    expect(renamedMessage(aliceQuotingBob, robert)).toMatchObject({ sender_name: 'Alice', reply_to: { sender_name: 'Robert Smith' } });
    const unrelated = msg(4, { sender_id: 1, sender_name: 'Alice' });
    expect(renamedMessage(unrelated, robert)).toBe(unrelated);
    const list = [unrelated];
    expect(renamedMessages(list, robert)).toBe(list);
  });
});
