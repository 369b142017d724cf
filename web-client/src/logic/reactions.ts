// Reactions: the picker's palette (plus what is already on the message), whether I reacted, who did in words,
// and the server's refusals in words.
import type { Member, Reaction } from '../api/types';

export const PALETTE = ['👍', '❤️', '😂', '😮', '😢', '🎉', '🙏', '👀'] as const;

/** The server's limit of distinct emojis on one message. */
export const MAX_REACTIONS = 20;

/** The picker's emojis: the palette, then the ones already on the message that it lacks. */
export function pickerEmojis(reactions: readonly Reaction[] = []): string[] {
  const out: string[] = [...PALETTE];
  for (const r of reactions) if (!out.includes(r.emoji)) out.push(r.emoji);
  return out;
}

export function reactedBy(r: Reaction, userId: number): boolean {
  return r.user_ids.includes(userId);
}

/** "You, Bob Builder and 2 others reacted with 👍" — names from the conversation's members. */
export function reactorsText(r: Reaction, members: readonly Member[], meId: number): string {
  const names = r.user_ids.map((id) => (id === meId ? 'You' : (members.find((m) => m.user.id === id)?.user.display_name ?? 'Someone who left')));
  // You first.
  names.sort((a, b) => (a === 'You' ? -1 : b === 'You' ? 1 : 0));
  const shown = names.slice(0, 3);
  const more = names.length - shown.length;
  let who: string;
  if (more > 0) who = `${shown.join(', ')} and ${more === 1 ? '1 other' : `${more} others`}`;
  else if (shown.length <= 1) who = shown[0] ?? 'Nobody';
  else who = `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
  return `${who} reacted with ${r.emoji}`;
}

/** A chip's accessible name: "👍 2 reactions, including yours". */
export function chipLabel(r: Reaction, meId: number): string {
  const n = r.count === 1 ? '1 reaction' : `${r.count} reactions`;
  return `${r.emoji} ${n}${reactedBy(r, meId) ? ', including yours' : ''}`;
}

/** A refused reaction in words; null when the code is not about reactions. */
export function reactionRefusal(code: string, field?: string | null): string | null {
  switch (code) {
    case 'too_many_reactions':
      return `This message already has ${MAX_REACTIONS} different reactions. Add to one of them instead.`;
    case 'validation_failed':
      return field === 'emoji' ? 'That is not a single emoji.' : null;
    default:
      return null;
  }
}

/** The reactions after I toggled one (the optimistic guess the server's answer replaces). */
export function toggledReactions(reactions: readonly Reaction[], emoji: string, meId: number, on: boolean): Reaction[] {
  const i = reactions.findIndex((r) => r.emoji === emoji);
  if (on) {
    if (i < 0) return [...reactions, { emoji, count: 1, user_ids: [meId] }];
    const r = reactions[i];
    if (reactedBy(r, meId)) return [...reactions];
    return reactions.map((x, j) => (j === i ? { ...x, count: x.count + 1, user_ids: [...x.user_ids, meId] } : x));
  }
  if (i < 0 || !reactedBy(reactions[i], meId)) return [...reactions];
  const r = reactions[i];
  if (r.count <= 1) return reactions.filter((_, j) => j !== i);
  return reactions.map((x, j) => (j === i ? { ...x, count: x.count - 1, user_ids: x.user_ids.filter((u) => u !== meId) } : x));
}
