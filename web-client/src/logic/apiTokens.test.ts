import { describe, expect, it } from 'vitest';
import { EMPTY_TOKEN_FORM, expiryLabel, isExpired, toggleScope, tokenRequest, validateTokenForm } from './apiTokens';

const NOW = Date.parse('2026-12-04T12:00:00Z');

describe('API token form', () => {
  it('needs a name and at least one scope', () => {
    expect(validateTokenForm({ ...EMPTY_TOKEN_FORM, name: '  ' }).name).toBeTruthy();
    expect(validateTokenForm({ ...EMPTY_TOKEN_FORM, name: 'x'.repeat(65) }).name).toBe('At most 64 characters.');
    expect(validateTokenForm({ name: 'ci', scopes: [], days: 30 }).scopes).toBeTruthy();
    expect(validateTokenForm({ name: 'ci', scopes: ['read'], days: 30 })).toEqual({});
  });

  it('asks for the trimmed name and the scopes in a fixed order', () => {
    expect(tokenRequest({ name: ' backup ', scopes: ['send', 'read'], days: 90 })).toEqual({ name: 'backup', scopes: ['read', 'send'], expires_in_days: 90 });
  });

  it('toggles a scope on once and off', () => {
    expect(toggleScope(['read'], 'send', true)).toEqual(['read', 'send']);
    expect(toggleScope(['read', 'send'], 'send', true)).toEqual(['read', 'send']);
    expect(toggleScope(['read', 'send'], 'read', false)).toEqual(['send']);
  });
});

describe('a token lifetime', () => {
  it('reads in whole days until it has expired', () => {
    expect(expiryLabel('2026-12-07T13:00:00Z', NOW)).toBe('Expires in 3 days');
    expect(expiryLabel('2026-12-05T13:00:00Z', NOW)).toBe('Expires in 1 day');
    expect(expiryLabel('2026-12-04T18:00:00Z', NOW)).toBe('Expires today');
    expect(expiryLabel('2026-12-04T11:00:00Z', NOW)).toBe('Expired');
    expect(isExpired({ expires_at: '2026-12-04T11:00:00Z' }, NOW)).toBe(true);
  });
});
