// What the client holds about people, changed by issue 15's frames: a `user` frame (someone renamed themselves,
// possibly me from another tab) rewrites every copy of their name the state holds — me, members, contacts, the
// block list, senders and quoted senders of held messages, last messages and pins — so every view shows the new
// name at once without asking the server again; a `presence` frame going offline carries when they were last
// seen. Pure, like the reducer that calls it.
import type { Conversation, User } from '../api/types';
import { isBlocked } from '../logic/blocks';
import { withLastSeenOf } from '../logic/lastSeen';
import { withPresenceOf } from '../logic/presence';
import { renamed, renamedMessage, renamedMessages } from '../logic/profile';
import { lastSeenOfFrame, type ServerFrameOf } from '../realtime/frames';
import type { ChatState } from './store';

export function withUserUpdate(state: ChatState, user: User): ChatState {
  const me = renamed(state.me, user);
  let conversations = state.conversations;
  for (const c of Object.values(state.conversations)) {
    const next = renamedIn(c, user);
    if (next !== c) conversations = { ...conversations, [c.id]: next };
  }
  let views = state.views;
  for (const [id, v] of Object.entries(state.views)) {
    const messages = renamedMessages(v.messages, user);
    if (messages !== v.messages) views = { ...views, [id]: { ...v, messages } };
  }
  let pins = state.pins;
  for (const [id, list] of Object.entries(state.pins)) {
    const next = list.map((p) => {
      const message = renamedMessage(p.message, user);
      return message === p.message ? p : { ...p, message };
    });
    if (next.some((p, i) => p !== list[i])) pins = { ...pins, [id]: next };
  }
  const contacts = mapSame(state.contacts, (u) => renamed(u, user));
  const blocked = mapSame(state.blocked, (u) => renamed(u, user));
  // Presence and last seen ride along where the server tells them, never about someone we blocked.
  const seen = isBlocked(state.blocked, user.id) ? { presence: state.presence, lastSeen: state.lastSeen } : { presence: withPresenceOf(state.presence, [user]), lastSeen: withLastSeenOf(state.lastSeen, [user]) };
  const same =
    me === state.me &&
    conversations === state.conversations &&
    views === state.views &&
    pins === state.pins &&
    contacts === state.contacts &&
    blocked === state.blocked &&
    seen.presence === state.presence &&
    seen.lastSeen === state.lastSeen;
  return same ? state : { ...state, me, conversations, views, pins, contacts, blocked, ...seen };
}

/** A `presence` frame: online or not, and when they were last seen once they are not. */
export function withPresenceFrame(state: ChatState, f: ServerFrameOf<'presence'>): ChatState {
  // Someone we blocked is none of our business; the REST lists leave their presence out as well.
  if (isBlocked(state.blocked, f.user_id)) return state;
  const at = f.online ? undefined : lastSeenOfFrame(f);
  const presence = state.presence[f.user_id] === f.online ? state.presence : { ...state.presence, [f.user_id]: f.online };
  const lastSeen = at === undefined || state.lastSeen[f.user_id] === at ? state.lastSeen : { ...state.lastSeen, [f.user_id]: at };
  return presence === state.presence && lastSeen === state.lastSeen ? state : { ...state, presence, lastSeen };
}

function renamedIn(c: Conversation, user: User): Conversation {
  const members = mapSame(c.members, (m) => {
    const u = renamed(m.user, user);
    return u === m.user ? m : { ...m, user: u };
  });
  const last = c.last_message ? renamedMessage(c.last_message, user) : c.last_message;
  if (members === c.members && last === c.last_message) return c;
  return { ...c, members: [...members], last_message: last };
}

/** `list` mapped, or the same array when every item came back the same. */
function mapSame<T>(list: readonly T[], fn: (t: T) => T): readonly T[] {
  const next = list.map(fn);
  return next.some((t, i) => t !== list[i]) ? next : list;
}
