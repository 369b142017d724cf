import { describe, expect, it } from 'vitest';
import { msg } from './fixtures';
import { catchUpFrom, lastEditable, lastSeq, mergeMessages, newClientId, settleOutbox, type PendingMessage } from './messages';

const seqs = (list: readonly { seq: number }[]) => list.map((m) => m.seq);

describe('mergeMessages (catch-up merge and dedupe)', () => {
  it('appends a catch-up page that overlaps what live frames already delivered, each seq once', () => {
    const held = [msg(1), msg(2), msg(3), msg(5)]; // 5 arrived live, 4 was missed
    const page = [msg(3), msg(4), msg(5), msg(6)];
    expect(seqs(mergeMessages(held, page))).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it('prepends an older history page in order', () => {
    expect(seqs(mergeMessages([msg(51), msg(52)], [msg(1), msg(2), msg(50)]))).toEqual([1, 2, 50, 51, 52]);
  });
  it('sorts an incoming batch that is out of order', () => {
    expect(seqs(mergeMessages([], [msg(3), msg(1), msg(2)]))).toEqual([1, 2, 3]);
  });
  it('returns the same array when nothing is new (no re-render)', () => {
    const held = [msg(1), msg(2)];
    expect(mergeMessages(held, [msg(2)])).toBe(held);
    expect(mergeMessages(held, [])).toBe(held);
  });
  it('takes an edit over the original, and never lets a stale copy undo it', () => {
    const edited = msg(2, { body: 'fixed', edited_at: '2024-05-15T11:00:00Z' });
    const afterEdit = mergeMessages([msg(1), msg(2)], [edited]);
    expect(afterEdit[1].body).toBe('fixed');
    expect(mergeMessages(afterEdit, [msg(2)])).toBe(afterEdit);
  });
  it('keeps a delete over any older copy', () => {
    const gone = msg(2, { body: '', deleted: true, edited_at: '2024-05-15T11:00:00Z' });
    const merged = mergeMessages([msg(1), msg(2)], [gone]);
    expect(merged[1].deleted).toBe(true);
    expect(mergeMessages(merged, [msg(2, { body: 'late', edited_at: '2024-05-15T12:00:00Z' })])[1].deleted).toBe(true);
  });
});

describe('catchUpFrom', () => {
  it('is null when the list is gapless up to the target', () => {
    expect(catchUpFrom([msg(1), msg(2), msg(3)], 3)).toBeNull();
    expect(catchUpFrom([], 10)).toBeNull();
  });
  it('starts after the last seq held when the server has more', () => {
    expect(catchUpFrom([msg(1), msg(2)], 5)).toBe(2);
  });
  it('starts before the first hole when a live frame skipped ahead', () => {
    expect(catchUpFrom([msg(4), msg(5), msg(8)], 8)).toBe(5);
  });
  it('lastSeq is the newest seq, 0 for none', () => {
    expect(lastSeq([msg(1), msg(7)])).toBe(7);
    expect(lastSeq([])).toBe(0);
  });
});

describe('settleOutbox', () => {
  const pending = (client_id: string): PendingMessage => ({ conversation_id: 1, client_id, body: 'x', created_at: '2024-05-15T10:00:00Z', status: 'pending' });
  it('drops the entries whose client_id the server confirmed for me', () => {
    const outbox = [pending('a'), pending('b'), pending('c')];
    const left = settleOutbox(outbox, [msg(9, { client_id: 'b', sender_id: 1 })], 1);
    expect(left.map((p) => p.client_id)).toEqual(['a', 'c']);
  });
  it('ignores someone else reusing the same client_id', () => {
    const outbox = [pending('a')];
    expect(settleOutbox(outbox, [msg(9, { client_id: 'a', sender_id: 2 })], 1)).toBe(outbox);
  });
});

describe('newClientId', () => {
  it('is unique', () => {
    const ids = new Set(Array.from({ length: 500 }, newClientId));
    expect(ids.size).toBe(500);
  });
});

describe('lastEditable', () => {
  it('is my newest message that is not deleted', () => {
    const list = [msg(1, { sender_id: 1 }), msg(2, { sender_id: 1 }), msg(3, { sender_id: 1, deleted: true }), msg(4)];
    expect(lastEditable(list, 1)).toBe(2);
    expect(lastEditable([msg(1)], 1)).toBeNull();
  });
});
