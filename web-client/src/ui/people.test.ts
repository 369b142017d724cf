import { describe, expect, it } from 'vitest';
import { initials } from './people';

describe('initials', () => {
  it('take whole graphemes of the first and last names', () => {
    expect(initials('Wanda 🌊')).toBe('W🌊');
    expect(initials('🦊')).toBe('🦊');
    expect(initials('ada lovelace')).toBe('AL');
  });
});
