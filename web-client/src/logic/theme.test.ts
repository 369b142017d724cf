import { describe, expect, it } from 'vitest';
import { loadPreference, resolveTheme, savePreference, toggled } from './theme';

describe('theme', () => {
  it('follows the system unless a theme was picked', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
  });

  it('toggles to the other theme, and back to following the system when that is what the system shows', () => {
    expect(toggled('light', false)).toBe('dark');
    expect(toggled('dark', false)).toBe('system');
    expect(toggled('dark', true)).toBe('light');
  });

  it('persists a pick and forgets "system"', () => {
    const m = new Map<string, string>();
    const storage = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
    savePreference(storage, 'dark');
    expect(loadPreference(storage)).toBe('dark');
    savePreference(storage, 'system');
    expect(m.size).toBe(0);
    expect(loadPreference(storage)).toBe('system');
  });
});
