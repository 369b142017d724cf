import { describe, expect, it } from 'vitest';
import { admit, canSend, isUploading, nextToStart, percent, type DraftUpload } from './uploads';

const draft = (key: string, status: DraftUpload['status'], over: Partial<DraftUpload> = {}): DraftUpload => ({
  key,
  conversation_id: 1,
  name: `${key}.png`,
  size: 1000,
  type: 'image/png',
  status,
  loaded: 0,
  ...over,
});

describe('admit (up to 10 files per message)', () => {
  it('takes what fits and turns the rest away', () => {
    const eight = Array.from({ length: 8 }, (_, i) => draft(`d${i}`, 'done'));
    expect(admit(eight, 5)).toEqual({ take: 2, refused: 3 });
    expect(admit([], 3)).toEqual({ take: 3, refused: 0 });
  });
  it('does not count refused files', () => {
    const some = [...Array.from({ length: 9 }, (_, i) => draft(`d${i}`, 'uploading')), draft('x', 'failed')];
    expect(admit(some, 2)).toEqual({ take: 1, refused: 1 });
  });
});

describe('nextToStart', () => {
  it('starts queued files in order while fewer than 3 are uploading', () => {
    const list = [draft('a', 'uploading'), draft('b', 'queued'), draft('c', 'queued'), draft('d', 'queued')];
    expect(nextToStart(list).map((d) => d.key)).toEqual(['b', 'c']);
    expect(nextToStart([draft('a', 'uploading'), draft('b', 'uploading'), draft('c', 'uploading'), draft('d', 'queued')])).toEqual([]);
  });
});

describe('canSend', () => {
  it('waits while a file is still uploading or queued', () => {
    expect(canSend('hello', [draft('a', 'uploading')])).toBe(false);
    expect(canSend('hello', [draft('a', 'queued')])).toBe(false);
    expect(isUploading([draft('a', 'done'), draft('b', 'queued')])).toBe(true);
  });
  it('sends text, uploaded files, or both; never nothing', () => {
    expect(canSend('hello', [])).toBe(true);
    expect(canSend('  ', [draft('a', 'done')])).toBe(true);
    expect(canSend('  ', [])).toBe(false);
    expect(canSend('', [draft('a', 'failed')])).toBe(false);
  });
});

describe('percent', () => {
  it('is the share of bytes sent, whole, 100 once done', () => {
    expect(percent({ loaded: 333, size: 1000, status: 'uploading' })).toBe(33);
    expect(percent({ loaded: 5000, size: 1000, status: 'uploading' })).toBe(100);
    expect(percent({ loaded: 0, size: 0, status: 'uploading' })).toBe(0);
    expect(percent({ loaded: 0, size: 1000, status: 'done' })).toBe(100);
  });
});
