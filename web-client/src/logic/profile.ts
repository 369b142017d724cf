// Names (issue 15). A display name can change at any time, and every place that shows one must follow: the
// server sends a `user` frame, and the client rewrites what it holds (members, senders, quotes). A reply's quote
// keeps the name as it was when it was quoted, even in history read later, so the name shown for a quote is
// looked up by its sender's id among the people the client knows, and the quoted name is only the fallback.
import type { Member, Message, User } from '../api/types';
import type { Refusal } from './account';

/** The server's limit, in characters (code points) after trimming. */
export const DISPLAY_NAME_MAX = 64;

/**
 * What the form can tell before asking: an empty or too long name, in words; null otherwise. The rarer refusals
 * (control characters pasted in) are the server's to judge: its 422 is shown at the field the same way.
 */
export function displayNameProblem(raw: string): string | null {
  const name = raw.trim();
  if (!name) return 'Enter a display name.';
  const length = Array.from(name).length;
  if (length > DISPLAY_NAME_MAX) return `A display name has at most ${DISPLAY_NAME_MAX} characters (this one has ${length}).`;
  return null;
}

/** The server's refusal of a new display name in words, for the form's field when it is about the name. */
export function displayNameRefusal(e: Refusal): { field: string | null; form: string | null } {
  if (e.status === 422 && e.field === 'display_name') return { field: e.message ? `Not accepted: ${e.message}` : 'The server did not accept this name.', form: null };
  if (e.status === 429) return { field: null, form: 'Too many changes at once. Try again in a minute.' };
  return { field: null, form: e.message || 'The name could not be saved.' };
}

/** Someone's current name as far as these members tell, else the name the server sent with the message. */
export function currentName(members: readonly Member[], userId: number, fallback: string): string {
  return members.find((m) => m.user.id === userId)?.user.display_name ?? fallback;
}

/** A person with the profile fields of `user` (a `user` frame), presence left as it was; the same one if equal. */
export function renamed<U extends Pick<User, 'id' | 'username' | 'display_name'>>(held: U, user: User): U {
  if (held.id !== user.id || (held.display_name === user.display_name && held.username === user.username)) return held;
  return { ...held, display_name: user.display_name, username: user.username };
}

/** A message naming `user` as its sender or its quote's sender, with their current name; the same one if none. */
export function renamedMessage(m: Message, user: User): Message {
  const sender = m.sender_id === user.id && m.sender_name !== user.display_name;
  const quote = m.reply_to?.sender_id === user.id && m.reply_to.sender_name !== user.display_name;
  if (!sender && !quote) return m;
  return {
    ...m,
    ...(sender ? { sender_name: user.display_name } : {}),
    ...(quote && m.reply_to ? { reply_to: { ...m.reply_to, sender_name: user.display_name } } : {}),
  };
}

/** A list of messages with `user`'s current name; the same array when none named them. */
export function renamedMessages(messages: readonly Message[], user: User): readonly Message[] {
  let changed = false;
  const next = messages.map((m) => {
    const r = renamedMessage(m, user);
    if (r !== m) changed = true;
    return r;
  });
  return changed ? next : messages;
}
