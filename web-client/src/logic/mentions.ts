// Mentions: the `@` autocomplete of the composer (what is being typed, who fits, the text after a pick), the
// `@name` tokens of a message body found for distinct rendering, and whether a message mentions me.
import type { Member, Message, User } from '../api/types';

/** Usernames are 3–32 characters of `a-z 0-9 _ . -` (case-insensitive). */
const NAME_CHAR = /[A-Za-z0-9_.-]/;
const TOKEN = /@([A-Za-z0-9_.-]{1,32})/g;

export interface MentionQuery {
  /** Index of the `@`. */
  start: number;
  /** What follows the `@` up to the caret. */
  query: string;
}

/** The `@word` being typed at the caret (an `@` at the start or after a space), or null. */
export function activeMention(text: string, caret: number): MentionQuery | null {
  let i = caret;
  while (i > 0 && NAME_CHAR.test(text[i - 1]) && caret - i < 32) i--;
  if (i === 0 || text[i - 1] !== '@') return null;
  const at = i - 1;
  if (at > 0 && !/\s|[([{"'«]/.test(text[at - 1])) return null;
  return { start: at, query: text.slice(i, caret) };
}

/**
 * Members who fit what is typed, best first: username prefix, then a word of the display name starting with it,
 * then anywhere in either. Never me; at most `limit`.
 */
export function mentionCandidates(members: readonly Member[], query: string, meId: number, limit = 8): User[] {
  const q = query.toLowerCase();
  const scored: Array<{ u: User; score: number }> = [];
  for (const { user: u } of members) {
    if (u.id === meId) continue;
    const name = u.username.toLowerCase();
    const display = u.display_name.toLowerCase();
    let score: number;
    if (name.startsWith(q)) score = 0;
    else if (display.split(/\s+/).some((w) => w.startsWith(q))) score = 1;
    else if (name.includes(q) || display.includes(q)) score = 2;
    else continue;
    scored.push({ u, score });
  }
  scored.sort((a, b) => a.score - b.score || a.u.display_name.localeCompare(b.u.display_name) || a.u.id - b.u.id);
  return scored.slice(0, limit).map((s) => s.u);
}

/** The text with the mention being typed replaced by `@username ` and where the caret goes. */
export function insertMention(text: string, m: MentionQuery, caret: number, username: string): { text: string; caret: number } {
  const before = text.slice(0, m.start);
  let after = text.slice(caret);
  // The rest of a word the caret was inside belongs to the mention.
  while (after && NAME_CHAR.test(after[0])) after = after.slice(1);
  // A space follows, unless the text already goes on with one (the caret goes past it) or with punctuation.
  const spaced = /^\s/.test(after);
  const inserted = `@${username}${spaced || /^[,.!?;:)\]]/.test(after) ? '' : ' '}`;
  return { text: before + inserted + after, caret: before.length + inserted.length + (spaced ? 1 : 0) };
}

export type BodyPart = { text: string; mention?: undefined } | { text: string; mention: User };

/**
 * A message body cut into text and `@username` tokens of members (case-insensitive; a trailing `.` or `-` is
 * punctuation unless the name has it). Unknown names stay text, as on the server.
 */
export function mentionParts(body: string, members: readonly Member[]): BodyPart[] {
  if (!body.includes('@')) return [{ text: body }];
  const byName = new Map(members.map((m) => [m.user.username.toLowerCase(), m.user]));
  const parts: BodyPart[] = [];
  let last = 0;
  for (const match of body.matchAll(TOKEN)) {
    const at = match.index ?? 0;
    if (at > 0 && NAME_CHAR.test(body[at - 1])) continue; // an address like a@b
    let name = match[1];
    let user = byName.get(name.toLowerCase());
    while (!user && /[.-]$/.test(name)) {
      name = name.slice(0, -1);
      user = byName.get(name.toLowerCase());
    }
    if (!user) continue;
    if (at > last) parts.push({ text: body.slice(last, at) });
    parts.push({ text: `@${name}`, mention: user });
    last = at + 1 + name.length;
  }
  if (last < body.length) parts.push({ text: body.slice(last) });
  return parts.length ? parts : [{ text: body }];
}

export function mentionsMe(m: Pick<Message, 'mentions' | 'deleted'>, meId: number): boolean {
  return !m.deleted && (m.mentions ?? []).includes(meId);
}
