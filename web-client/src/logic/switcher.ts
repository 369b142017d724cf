// The conversation switcher's list (Ctrl/Cmd+K): titles matching what was typed — a title starting with it
// first, then a word of it, then anywhere — each group in the list's own order (latest activity first).
export interface Named {
  id: number;
  title: string;
}

export function matchConversations<T extends Named>(list: readonly T[], query: string, limit = 8): T[] {
  const q = query.trim().toLocaleLowerCase();
  if (!q) return list.slice(0, limit);
  const rank = (t: string): number => {
    const s = t.toLocaleLowerCase();
    if (s.startsWith(q)) return 0;
    if (s.split(/\s+/).some((w) => w.startsWith(q))) return 1;
    return s.includes(q) ? 2 : -1;
  };
  return list
    .map((c, i) => ({ c, i, r: rank(c.title) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .slice(0, limit)
    .map((x) => x.c);
}
