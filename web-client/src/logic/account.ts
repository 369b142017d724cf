// Account settings rules: how a session is named and dated, which sessions "sign out all others" ends, and
// the password change form's checks and the server's answers turned into messages next to the fields.
import type { ChangePasswordRequest, SessionInfo } from '../api/types';

/** A readable name for the User-Agent a session logged in with: "Firefox on Windows", "Chrome on Linux". */
export function deviceLabel(userAgent: string | null | undefined): string {
  const ua = userAgent?.trim();
  if (!ua) return 'Unknown device';
  const browser = browserOf(ua);
  const os = osOf(ua);
  if (browser && os) return `${browser} on ${os}`;
  if (browser) return browser;
  // Not a browser (a script, curl, another client): its product token says most.
  const product = /^[^\s/;()]+/.exec(ua)?.[0];
  return product && os ? `${product} on ${os}` : (product ?? 'Unknown device');
}

function browserOf(ua: string): string | null {
  // Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
  if (/\bEdg(e|A|iOS)?\//.test(ua)) return 'Edge';
  if (/\b(OPR|Opera)\//.test(ua)) return 'Opera';
  if (/\b(Firefox|FxiOS)\//.test(ua)) return 'Firefox';
  if (/\bChromium\//.test(ua)) return 'Chromium';
  if (/\b(HeadlessChrome|Chrome|CriOS)\//.test(ua)) return 'Chrome';
  if (/\bVersion\/[\d.]+.*\bSafari\//.test(ua)) return 'Safari';
  return null;
}

function osOf(ua: string): string | null {
  if (/\b(iPhone|iPod)\b/.test(ua)) return 'iPhone';
  if (/\biPad\b/.test(ua)) return 'iPad';
  if (/\bAndroid\b/.test(ua)) return 'Android';
  if (/\bWindows\b/.test(ua)) return 'Windows';
  if (/\bCrOS\b/.test(ua)) return 'ChromeOS';
  if (/\bMac OS X\b|\bMacintosh\b/.test(ua)) return 'macOS';
  if (/\bLinux\b/.test(ua)) return 'Linux';
  return null;
}

/** This device first, then the others as the server orders them (most recently used first). */
export function sortSessions(sessions: readonly SessionInfo[]): SessionInfo[] {
  return [...sessions.filter((s) => s.current), ...sessions.filter((s) => !s.current)];
}

/** What "sign out all other sessions" ends: every session but this one. */
export function otherSessions(sessions: readonly SessionInfo[]): SessionInfo[] {
  return sessions.filter((s) => !s.current);
}

/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", then the date. */
export function lastActive(iso: string, now: Date = new Date(), locale?: string): string {
  const then = new Date(iso);
  const ms = now.getTime() - then.getTime();
  const min = Math.floor(ms / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  const hours = Math.floor(min / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  return then.toLocaleDateString(locale, { day: 'numeric', month: 'short', year: 'numeric' });
}

/** A point in time for people: "3 Dec 2026, 07:33" in their locale. */
export function dateTime(iso: string, locale?: string): string {
  return new Date(iso).toLocaleString(locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** "in 45 s", "in 3 min": how long until something may be tried again. */
export function waitText(ms: number): string {
  const secs = Math.max(1, Math.ceil(ms / 1000));
  if (secs < 60) return `in ${secs} s`;
  return `in ${Math.ceil(secs / 60)} min`;
}

export interface PasswordForm {
  current: string;
  next: string;
  confirm: string;
}

/** Messages per field of the password form; `form` is for what belongs to no one field. */
export interface PasswordErrors {
  current?: string;
  next?: string;
  confirm?: string;
  form?: string;
}

/** The server's length rule for passwords (ChangePasswordRequest.new_password: 8–256 characters). */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

/** Checks made before asking the server: the fields it would refuse, and a confirmation that differs. */
export function validatePasswordForm(form: PasswordForm): PasswordErrors {
  const errors: PasswordErrors = {};
  if (!form.current) errors.current = 'Enter your current password.';
  const length = [...form.next].length;
  if (length < PASSWORD_MIN) errors.next = `Use at least ${PASSWORD_MIN} characters.`;
  else if (length > PASSWORD_MAX) errors.next = `Use at most ${PASSWORD_MAX} characters.`;
  if (!errors.next && form.confirm !== form.next) errors.confirm = 'The two new passwords differ.';
  return errors;
}

export function hasErrors(errors: PasswordErrors): boolean {
  return Object.values(errors).some(Boolean);
}

/** The request body, from the form (the spec's shape). */
export function passwordChangeRequest(form: PasswordForm): ChangePasswordRequest {
  return { current_password: form.current, new_password: form.next };
}

/** The part of a refusal the form needs (an ApiError has it all). */
export interface Refusal {
  status: number;
  code: string;
  message: string;
  field?: string | null;
  retryAfterMs?: number | null;
}

/** Where the server's refusal of a password change is shown, and in which words. */
export function passwordChangeErrors(e: Refusal): PasswordErrors {
  if (e.code === 'wrong_password') return { current: 'That is not your current password.' };
  if (e.code === 'validation_failed' && e.field === 'new_password') return { next: e.message };
  if (e.code === 'validation_failed' && e.field === 'current_password') return { current: e.message };
  if (e.status === 429) {
    const when = e.retryAfterMs != null ? ` Try again ${waitText(e.retryAfterMs)}.` : ' Try again later.';
    return { current: `Too many wrong passwords.${when}` };
  }
  if (e.code === 'busy') {
    const when = e.retryAfterMs != null ? ` Try again ${waitText(e.retryAfterMs)}.` : ' Try again shortly.';
    return { form: `The server is busy.${when}` };
  }
  return { form: e.message };
}
