// The shown theme, kept on <html data-theme> and in step with the system's setting while no theme is picked.
import { useCallback, useEffect, useState } from 'react';
import { loadPreference, resolveTheme, savePreference, toggled, type Theme, type ThemePreference } from '../logic/theme';

const query = () => (typeof matchMedia === 'undefined' ? null : matchMedia('(prefers-color-scheme: dark)'));
const storage = () => (typeof localStorage === 'undefined' ? null : localStorage);

/** Sets <html data-theme> from what is stored and the system: before the first render, so nothing flashes. */
export function applyStoredTheme(): Theme {
  const theme = resolveTheme(loadPreference(storage()), query()?.matches ?? false);
  document.documentElement.dataset.theme = theme;
  return theme;
}

export function useTheme(): { theme: Theme; toggle: () => void } {
  const [pref, setPref] = useState<ThemePreference>(() => loadPreference(storage()));
  const [systemDark, setSystemDark] = useState(() => query()?.matches ?? false);
  const theme = resolveTheme(pref, systemDark);

  useEffect(() => {
    const q = query();
    if (!q) return;
    const on = () => setSystemDark(q.matches);
    q.addEventListener('change', on);
    return () => q.removeEventListener('change', on);
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  const toggle = useCallback(() => {
    const next = toggled(theme, systemDark);
    savePreference(storage(), next);
    setPref(next);
  }, [theme, systemDark]);

  return { theme, toggle };
}
