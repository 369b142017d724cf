import { describe, expect, it } from 'vitest';
import type { SessionInfo } from '../api/types';
import {
  deviceLabel,
  hasErrors,
  lastActive,
  otherSessions,
  passwordChangeErrors,
  passwordChangeRequest,
  sortSessions,
  validatePasswordForm,
  waitText,
} from './account';

const session = (id: number, current = false): SessionInfo => ({
  id,
  current,
  device: null,
  created_at: '2026-12-01T10:00:00Z',
  last_used_at: '2026-12-03T10:00:00Z',
  expires_at: '2027-03-01T10:00:00Z',
});

describe('deviceLabel', () => {
  it('names the browser and the system', () => {
    expect(deviceLabel('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0')).toBe('Firefox on Windows');
    expect(deviceLabel('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15')).toBe('Safari on macOS');
    expect(deviceLabel('Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1')).toBe('Safari on iPhone');
    expect(deviceLabel('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36')).toBe('Chrome on Android');
  });
  it('tells Edge and Opera from the Chrome they also claim to be', () => {
    expect(deviceLabel('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0')).toBe('Edge on Windows');
    expect(deviceLabel('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/116.0.0.0')).toBe('Opera on Linux');
  });
  it('counts headless Chrome as Chrome', () => {
    expect(deviceLabel('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/140.0.0.0 Safari/537.36')).toBe('Chrome on Linux');
  });
  it('falls back to the product token for programs, and says so when there is nothing', () => {
    expect(deviceLabel('curl/8.5.0')).toBe('curl');
    expect(deviceLabel('node')).toBe('node');
    expect(deviceLabel(null)).toBe('Unknown device');
    expect(deviceLabel('   ')).toBe('Unknown device');
  });
});

describe('sessions', () => {
  it('lists this device first, the others in the server order', () => {
    expect(sortSessions([session(3), session(2, true), session(1)]).map((s) => s.id)).toEqual([2, 3, 1]);
  });
  it('"sign out all other sessions" ends every session but this one', () => {
    expect(otherSessions([session(3), session(2, true), session(1)]).map((s) => s.id)).toEqual([3, 1]);
    expect(otherSessions([session(2, true)])).toEqual([]);
  });
});

describe('lastActive', () => {
  const now = new Date('2026-12-03T12:00:00Z');
  it('is relative for the last week', () => {
    expect(lastActive('2026-12-03T11:59:30Z', now)).toBe('just now');
    expect(lastActive('2026-12-03T11:55:00Z', now)).toBe('5 min ago');
    expect(lastActive('2026-12-03T09:00:00Z', now)).toBe('3 h ago');
    expect(lastActive('2026-12-02T09:00:00Z', now)).toBe('yesterday');
    expect(lastActive('2026-11-29T12:00:00Z', now)).toBe('4 days ago');
  });
  it('gives the date beyond a week', () => {
    expect(lastActive('2026-10-01T12:00:00Z', now, 'en-GB')).toBe('1 Oct 2026');
  });
  it('reads a clock slightly ahead of ours as just now', () => {
    expect(lastActive('2026-12-03T12:00:05Z', now)).toBe('just now');
  });
});

describe('waitText', () => {
  it('counts seconds under a minute, minutes above, rounding up', () => {
    expect(waitText(400)).toBe('in 1 s');
    expect(waitText(45_000)).toBe('in 45 s');
    expect(waitText(61_000)).toBe('in 2 min');
  });
});

describe('validatePasswordForm', () => {
  const ok = { current: 'old secret', next: 'battery staple horse', confirm: 'battery staple horse' };
  it('accepts a complete form', () => {
    expect(hasErrors(validatePasswordForm(ok))).toBe(false);
  });
  it('asks for the current password', () => {
    expect(validatePasswordForm({ ...ok, current: '' })).toEqual({ current: 'Enter your current password.' });
  });
  it('holds the new password to the server rule of 8 to 256 characters', () => {
    expect(validatePasswordForm({ ...ok, next: 'short', confirm: 'short' })).toEqual({ next: 'Use at least 8 characters.' });
    const long = 'x'.repeat(257);
    expect(validatePasswordForm({ ...ok, next: long, confirm: long })).toEqual({ next: 'Use at most 256 characters.' });
  });
  it('counts characters, not UTF-16 units', () => {
    const emoji = '🔑'.repeat(8);
    expect(validatePasswordForm({ ...ok, next: emoji, confirm: emoji })).toEqual({});
  });
  it('wants the confirmation to match', () => {
    expect(validatePasswordForm({ ...ok, confirm: 'battery staple hose' })).toEqual({ confirm: 'The two new passwords differ.' });
  });
  it('builds the request body of the spec', () => {
    expect(passwordChangeRequest(ok)).toEqual({ current_password: 'old secret', new_password: 'battery staple horse' });
  });
});

describe('passwordChangeErrors', () => {
  it('puts a wrong current password next to that field', () => {
    expect(passwordChangeErrors({ status: 403, code: 'wrong_password', message: 'Wrong password.' })).toEqual({ current: 'That is not your current password.' });
  });
  it('puts the server validation message next to the field it names', () => {
    expect(passwordChangeErrors({ status: 422, code: 'validation_failed', message: 'At least 8 characters.', field: 'new_password' })).toEqual({
      next: 'At least 8 characters.',
    });
  });
  it('says how long to wait after too many wrong passwords', () => {
    expect(passwordChangeErrors({ status: 429, code: 'rate_limited', message: 'Slow down.', retryAfterMs: 8_000 })).toEqual({
      current: 'Too many wrong passwords. Try again in 8 s.',
    });
  });
  it('shows anything else for the whole form, in the server words', () => {
    expect(passwordChangeErrors({ status: 500, code: 'internal', message: 'Something broke.' })).toEqual({ form: 'Something broke.' });
  });
});
