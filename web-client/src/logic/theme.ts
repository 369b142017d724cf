// Light or dark: the system's setting unless the user picked one with the toggle (kept in localStorage). The
// resolved theme is set on <html data-theme>, which the stylesheet's dark palette keys on.
export type ThemePreference = 'system' | 'light' | 'dark';
export type Theme = 'light' | 'dark';

const KEY = 'chat.theme';

export function resolveTheme(pref: ThemePreference, systemDark: boolean): Theme {
  return pref === 'system' ? (systemDark ? 'dark' : 'light') : pref;
}

/** The toggle flips what is shown; choosing what the system shows anyway goes back to following the system. */
export function toggled(shown: Theme, systemDark: boolean): ThemePreference {
  const next: Theme = shown === 'dark' ? 'light' : 'dark';
  return next === (systemDark ? 'dark' : 'light') ? 'system' : next;
}

export function loadPreference(storage: Pick<Storage, 'getItem'> | null): ThemePreference {
  try {
    const v = storage?.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

export function savePreference(storage: Pick<Storage, 'setItem' | 'removeItem'> | null, pref: ThemePreference): void {
  try {
    if (pref === 'system') storage?.removeItem(KEY);
    else storage?.setItem(KEY, pref);
  } catch {
    /* storage disabled: the choice lasts until the page is closed */
  }
}
