import { firstGrapheme } from '../logic/graphemes';
import type { Conversation, User } from '../api/types';

/** The other person of a direct conversation. */
export function peerOf(c: Conversation, meId: number): User | undefined {
  return c.members.find((m) => m.user.id !== meId)?.user;
}

export function conversationTitle(c: Conversation, meId: number): string {
  if (c.kind === 'group') return c.title?.trim() || c.members.map((m) => m.user.display_name).join(', ');
  return peerOf(c, meId)?.display_name ?? 'Saved messages';
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? firstGrapheme(parts[0]) + firstGrapheme(parts[parts.length - 1]) : firstGrapheme(parts[0] ?? '?');
  return letters.toUpperCase();
}

const HUES = [211, 262, 330, 14, 32, 152, 186, 290];
export function hueFor(id: number): number {
  return HUES[Math.abs(id) % HUES.length];
}
