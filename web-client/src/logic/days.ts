// Day grouping of a message list: "Today", "Yesterday", then a date. Everything is in the reader's local time.

export interface DayGroup<T> {
  /** Local calendar day, `YYYY-MM-DD`; stable React key. */
  key: string;
  label: string;
  items: T[];
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function dayKey(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function startOfDay(date: Date): Date {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate());
}

/** Whole calendar days from `date` to `now` (0 = same day, 1 = yesterday); DST-safe. */
export function daysBetween(date: Date, now: Date): number {
  const a = startOfDay(date);
  const b = startOfDay(now);
  return Math.round((b.getTime() - a.getTime()) / 86_400_000);
}

export function dayLabel(date: Date, now: Date = new Date(), locale?: string): string {
  const diff = daysBetween(date, now);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  const sameYear = date.getFullYear() === now.getFullYear();
  if (diff > 1 && diff < 7) {
    return date.toLocaleDateString(locale, { weekday: 'long', month: 'long', day: 'numeric' });
  }
  return date.toLocaleDateString(locale, {
    month: 'long',
    day: 'numeric',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
}

/**
 * Groups items (already in display order) into runs of the same local day. Consecutive runs only:
 * a list sorted by time yields one group per day.
 */
export function groupByDay<T>(items: readonly T[], timeOf: (item: T) => string | Date, now: Date = new Date(), locale?: string): DayGroup<T>[] {
  const groups: DayGroup<T>[] = [];
  for (const item of items) {
    const raw = timeOf(item);
    const date = raw instanceof Date ? raw : new Date(raw);
    const key = dayKey(date);
    const last = groups[groups.length - 1];
    if (last && last.key === key) {
      last.items.push(item);
    } else {
      groups.push({ key, label: dayLabel(date, now, locale), items: [item] });
    }
  }
  return groups;
}

/** Short time for a conversation list row: "14:05" today, "Yesterday", weekday this week, else a date. */
export function shortStamp(iso: string, now: Date = new Date(), locale?: string): string {
  const date = new Date(iso);
  const diff = daysBetween(date, now);
  if (diff === 0) return clockTime(date, locale);
  if (diff === 1) return 'Yesterday';
  if (diff > 1 && diff < 7) return date.toLocaleDateString(locale, { weekday: 'short' });
  return date.toLocaleDateString(locale, { day: 'numeric', month: 'short', ...(date.getFullYear() === now.getFullYear() ? {} : { year: '2-digit' }) });
}

export function clockTime(date: Date, locale?: string): string {
  return date.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
}
