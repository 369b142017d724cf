import { describe, expect, it } from 'vitest';
import { bodyLength, counterText, MAX_BODY_CHARS } from './compose';
import { draftKey, forgetDrafts, loadDraft, saveDraft } from './drafts';

class MemoryStorage {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
  get length() {
    return this.m.size;
  }
  key(i: number) {
    return [...this.m.keys()][i] ?? null;
  }
}

describe('drafts', () => {
  it("are all forgotten for the user who signs out, and only theirs", () => {
    const s = new MemoryStorage() as unknown as Storage;
    saveDraft(draftKey(1, 4), 'secret plan', s);
    saveDraft(draftKey(1, 5), 'another', s);
    saveDraft(draftKey(12, 4), 'user twelve', s);
    s.setItem('chat.theme', 'dark');
    forgetDrafts(1, s);
    expect(loadDraft(draftKey(1, 4), s)).toBe('');
    expect(loadDraft(draftKey(1, 5), s)).toBe('');
    expect(loadDraft(draftKey(12, 4), s)).toBe('user twelve');
    expect(s.getItem('chat.theme')).toBe('dark');
  });

  it('are kept per user and conversation', () => {
    const s = new MemoryStorage() as unknown as Storage;
    saveDraft(draftKey(1, 4), 'hello four', s);
    saveDraft(draftKey(1, 5), 'hello five', s);
    expect(loadDraft(draftKey(1, 4), s)).toBe('hello four');
    expect(loadDraft(draftKey(1, 5), s)).toBe('hello five');
    expect(loadDraft(draftKey(2, 4), s)).toBe('');
  });

  it('leave nothing behind once emptied (sent)', () => {
    const m = new MemoryStorage();
    saveDraft(draftKey(1, 4), 'x', m as unknown as Storage);
    saveDraft(draftKey(1, 4), '  ', m as unknown as Storage);
    expect(m.m.size).toBe(0);
  });
});

describe('body length', () => {
  it('counts characters as the server does: code points after trimming', () => {
    expect(bodyLength('  👋🏽 hi  ').count).toBe(5);
    expect(bodyLength('é'.repeat(MAX_BODY_CHARS)).over).toBe(0);
  });

  it('shows the counter near the limit and says by how much a long text is over', () => {
    expect(bodyLength('a'.repeat(3499)).showCounter).toBe(false);
    expect(counterText(bodyLength('a'.repeat(3600)))).toBe('3,600 / 4,000');
    const long = bodyLength('a'.repeat(5000));
    expect(long.over).toBe(1000);
    expect(counterText(long)).toBe('1,000 characters too long — shorten it to send');
  });
});
