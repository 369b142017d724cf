// Blocks as the client sees them. Where two people are blocked either way, the server refuses direct chats,
// group adds and contacts with 403: `blocked_by_you` to the blocker (who may undo it), plain `forbidden` to the
// other side (who is not told why). These rules turn those answers into sentences for each action.
import type { User } from '../api/types';

/** What the user tried when the server refused. */
export type BlockableAction = 'direct' | 'contact' | 'add_member' | 'create_group' | 'send';

/** A sentence for a 403 that a block explains, or null for any other answer (its own message then). */
export function blockRefusalMessage(status: number, code: string, action: BlockableAction): string | null {
  if (status !== 403) return null;
  if (code === 'blocked_by_you') {
    return action === 'create_group' ? 'You have blocked one of these people — unblock them first.' : 'You have blocked this user — unblock them first.';
  }
  if (code === 'forbidden') {
    switch (action) {
      case 'direct':
        return "You can't start a conversation with this user.";
      case 'create_group':
        return "You can't add one of these people.";
      case 'send':
        return "You can't send messages to this user.";
      default:
        return "You can't add this user.";
    }
  }
  return null;
}

export function isBlocked(blocked: readonly User[], userId: number): boolean {
  return blocked.some((u) => u.id === userId);
}

/** The block list after blocking `user`: sorted by username as the server lists it; the same list if present. */
export function withBlocked(blocked: readonly User[], user: User): readonly User[] {
  if (isBlocked(blocked, user.id)) return blocked;
  return [...blocked, user].sort((a, b) => a.username.localeCompare(b.username));
}

export function withoutBlocked(blocked: readonly User[], userId: number): readonly User[] {
  return isBlocked(blocked, userId) ? blocked.filter((u) => u.id !== userId) : blocked;
}
