import { describe, expect, it } from 'vitest';
import { clockTime } from './days';
import { lastSeenAtOf, lastSeenText, peerStatus, withLastSeenOf } from './lastSeen';

// Local times, so the words do not depend on the machine's time zone.
const now = new Date(2024, 4, 15, 14, 30); // Wednesday 15 May 2024, 14:30
const at = (d: Date) => d.toISOString();

describe('lastSeenText', () => {
  it('minutes within the hour', () => {
    expect(lastSeenText(at(new Date(2024, 4, 15, 14, 29, 40)), now)).toBe('last seen just now');
    expect(lastSeenText(at(new Date(2024, 4, 15, 14, 25)), now)).toBe('last seen 5 min ago');
    expect(lastSeenText(at(new Date(2024, 4, 15, 13, 31)), now)).toBe('last seen 59 min ago');
  });

  it('a clock slightly ahead of ours is "just now"', () => {
    expect(lastSeenText(at(new Date(2024, 4, 15, 14, 31)), now)).toBe('last seen just now');
  });

  it('today, yesterday and this week with the time; older ones by date', () => {
    const nine = new Date(2024, 4, 15, 9, 15);
    expect(lastSeenText(at(nine), now)).toBe(`last seen today at ${clockTime(nine)}`);
    const yesterday = new Date(2024, 4, 14, 14, 2);
    expect(lastSeenText(at(yesterday), now)).toBe(`last seen yesterday at ${clockTime(yesterday)}`);
    const monday = new Date(2024, 4, 13, 8, 0);
    expect(lastSeenText(at(monday), now)).toBe(`last seen ${monday.toLocaleDateString(undefined, { weekday: 'long' })} at ${clockTime(monday)}`);
    const march = new Date(2024, 2, 3, 8, 0);
    expect(lastSeenText(at(march), now)).toBe(`last seen ${march.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })}`);
    const lastYear = new Date(2023, 11, 24, 8, 0);
    expect(lastSeenText(at(lastYear), now)).toContain('2023');
  });

  it('late last night is "yesterday" even when less than a day ago', () => {
    const late = new Date(2024, 4, 14, 23, 50);
    expect(lastSeenText(at(late), new Date(2024, 4, 15, 1, 0))).toBe(`last seen yesterday at ${clockTime(late)}`);
  });
});

describe('peerStatus', () => {
  it('online, last seen when offline and known, offline otherwise, nothing when presence is unknown', () => {
    expect(peerStatus(true, at(new Date(2024, 4, 15, 14, 25)), now)).toBe('online');
    expect(peerStatus(false, at(new Date(2024, 4, 15, 14, 25)), now)).toBe('last seen 5 min ago');
    expect(peerStatus(false, undefined, now)).toBe('offline');
    expect(peerStatus(undefined, at(new Date(2024, 4, 15, 14, 25)), now)).toBeNull();
  });
});

describe('withLastSeenOf', () => {
  it('keeps what users say, ignores users that say nothing, and returns the same object when nothing changed', () => {
    const t = '2024-05-15T12:00:00Z';
    const held = withLastSeenOf({}, [{ id: 2, last_seen_at: t } as { id: number }, { id: 3 }, { id: 4, last_seen_at: null } as { id: number }]);
    expect(held).toEqual({ 2: t });
    expect(withLastSeenOf(held, [{ id: 2, last_seen_at: t } as { id: number }, { id: 3 }])).toBe(held);
    expect(lastSeenAtOf({ id: 3 })).toBeUndefined();
  });
});
