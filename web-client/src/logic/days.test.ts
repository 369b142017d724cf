import { describe, expect, it } from 'vitest';
import { dayKey, dayLabel, daysBetween, groupByDay, shortStamp } from './days';

// Local-time constructors keep these tests independent of the machine's time zone.
const now = new Date(2024, 4, 15, 12, 0); // Wed 15 May 2024, noon

describe('dayLabel', () => {
  it('says Today for any time on the same local day', () => {
    expect(dayLabel(new Date(2024, 4, 15, 0, 0), now)).toBe('Today');
    expect(dayLabel(new Date(2024, 4, 15, 23, 59), now)).toBe('Today');
  });
  it('says Yesterday for the previous local day, even a minute before midnight', () => {
    expect(dayLabel(new Date(2024, 4, 14, 23, 59), now)).toBe('Yesterday');
    expect(dayLabel(new Date(2024, 4, 14, 0, 0), now)).toBe('Yesterday');
  });
  it('names the weekday within the week and the date beyond it', () => {
    expect(dayLabel(new Date(2024, 4, 12, 9), now, 'en-US')).toBe('Sunday, May 12');
    expect(dayLabel(new Date(2024, 3, 1, 9), now, 'en-US')).toBe('April 1');
  });
  it('adds the year for another year', () => {
    expect(dayLabel(new Date(2023, 11, 31, 9), now, 'en-US')).toBe('December 31, 2023');
  });
  it('counts calendar days across a daylight-saving change', () => {
    expect(daysBetween(new Date(2024, 2, 30, 23, 0), new Date(2024, 2, 31, 23, 30))).toBe(1);
    expect(daysBetween(new Date(2024, 9, 26, 1, 0), new Date(2024, 9, 28, 0, 30))).toBe(2);
  });
});

describe('groupByDay', () => {
  const at = (d: Date) => ({ t: d.toISOString() });
  it('puts consecutive messages of one day in one group, in order', () => {
    const items = [at(new Date(2024, 4, 13, 10)), at(new Date(2024, 4, 14, 9)), at(new Date(2024, 4, 14, 22)), at(new Date(2024, 4, 15, 8)), at(new Date(2024, 4, 15, 11))];
    const groups = groupByDay(items, (i) => i.t, now, 'en-US');
    expect(groups.map((g) => g.label)).toEqual(['Monday, May 13', 'Yesterday', 'Today']);
    expect(groups.map((g) => g.items.length)).toEqual([1, 2, 2]);
    expect(groups[2].items[0]).toBe(items[3]);
    expect(groups.map((g) => g.key)).toEqual(['2024-05-13', '2024-05-14', '2024-05-15']);
  });
  it('yields nothing for nothing', () => {
    expect(groupByDay([], () => now, now)).toEqual([]);
  });
  it('accepts Date values', () => {
    expect(groupByDay([new Date(2024, 4, 15, 1)], (d) => d, now)[0].label).toBe('Today');
  });
  it('keys by local day', () => {
    expect(dayKey(new Date(2024, 0, 5, 23, 59))).toBe('2024-01-05');
  });
});

describe('shortStamp', () => {
  it('shows a clock time today and Yesterday before', () => {
    expect(shortStamp(new Date(2024, 4, 15, 9, 5).toISOString(), now, 'en-GB')).toBe('09:05');
    expect(shortStamp(new Date(2024, 4, 14, 9, 5).toISOString(), now, 'en-GB')).toBe('Yesterday');
  });
});
