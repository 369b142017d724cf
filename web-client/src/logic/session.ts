// Whether two answers describe the same user the same way: a refresh answers an equal user in a new object.
import type { User } from '../api/types';

export function sameUser(a: User, b: User): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof User>;
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}
