// Presence as the client knows it. It comes from `presence` frames and from the `online` field of users in
// REST answers. That field is absent wherever the server will not say (across a block, people who share no
// conversation) and always absent in `conversation` lifecycle frames: absent means "no news", never "offline".
import type { Conversation, User } from '../api/types';

export type Presence = Readonly<Record<number, boolean>>;

/** `presence` updated with what these users say about themselves; the same object when nothing changed. */
export function withPresenceOf(presence: Presence, users: Iterable<User>): Presence {
  let next: Record<number, boolean> | null = null;
  for (const u of users) {
    if (typeof u.online !== 'boolean' || presence[u.id] === u.online) continue;
    next ??= { ...presence };
    next[u.id] = u.online;
  }
  return next ?? presence;
}

/** Whether someone is online as far as we know; undefined when we do not know (draw no dot then). */
export function presenceOf(presence: Presence, user: User): boolean | undefined {
  return presence[user.id] ?? (typeof user.online === 'boolean' ? user.online : undefined);
}

/** Members other than me whose presence we have never learned (a REST read of the conversation tells). */
export function membersOfUnknownPresence(c: Conversation, presence: Presence, meId: number): number[] {
  return c.members.filter((m) => m.user.id !== meId && presenceOf(presence, m.user) === undefined).map((m) => m.user.id);
}
