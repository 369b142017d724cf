// API token rules for the settings screen: the create form's checks and request, and how a token's scopes and
// lifetime read.
import type { ApiToken, ApiTokenScope, CreateApiTokenRequest } from '../api/types';

export const SCOPES: readonly { scope: ApiTokenScope; label: string; hint: string }[] = [
  { scope: 'read', label: 'Read', hint: 'conversations, history, search, people, files; open a socket' },
  { scope: 'send', label: 'Send', hint: 'send, edit and delete messages; reactions, pins, uploads' },
  { scope: 'manage', label: 'Manage', hint: 'create conversations, members and roles, contacts, blocks' },
];

/** Lifetimes offered, in days (the server takes 1–366). */
export const LIFETIMES: readonly number[] = [7, 30, 90, 366];

export interface TokenForm {
  name: string;
  scopes: ApiTokenScope[];
  days: number;
}

export const EMPTY_TOKEN_FORM: TokenForm = { name: '', scopes: ['read'], days: 30 };

export interface TokenFormErrors {
  name?: string;
  scopes?: string;
}

export function validateTokenForm(form: TokenForm): TokenFormErrors {
  const errors: TokenFormErrors = {};
  const name = form.name.trim();
  if (!name) errors.name = 'Name the token, to tell it apart later.';
  else if ([...name].length > 64) errors.name = 'At most 64 characters.';
  if (form.scopes.length === 0) errors.scopes = 'Choose at least one scope.';
  return errors;
}

export function tokenRequest(form: TokenForm): CreateApiTokenRequest {
  return { name: form.name.trim(), scopes: SCOPES.map((s) => s.scope).filter((s) => form.scopes.includes(s)), expires_in_days: form.days };
}

export function toggleScope(scopes: readonly ApiTokenScope[], scope: ApiTokenScope, on: boolean): ApiTokenScope[] {
  const rest = scopes.filter((s) => s !== scope);
  return on ? [...rest, scope] : rest;
}

export function scopeList(token: Pick<ApiToken, 'scopes'>): string {
  return token.scopes.join(', ');
}

const DAY = 24 * 3600 * 1000;

/** "Expires in 3 days", "Expires today", "Expired". */
export function expiryLabel(expiresAt: string, now: number = Date.now()): string {
  const left = Date.parse(expiresAt) - now;
  if (left <= 0) return 'Expired';
  // Rounded: a token made for 90 days reads "90 days" just after, not 89.
  const days = Math.round(left / DAY);
  if (days === 0) return 'Expires today';
  return days === 1 ? 'Expires in 1 day' : `Expires in ${days} days`;
}

export function isExpired(token: Pick<ApiToken, 'expires_at'>, now: number = Date.now()): boolean {
  return Date.parse(token.expires_at) <= now;
}
