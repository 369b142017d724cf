// Who may do what in a group, by role — the same rules the server enforces (it answers 403 otherwise):
// the owner or an admin renames and adds members; they remove members, but only the owner removes an admin
// or the owner; anyone may leave. Direct conversations have no management at all.
import type { Conversation, Member } from '../api/types';

export type Role = Member['role'];

const RANK: Record<Role, number> = { owner: 0, admin: 1, member: 2 };

export function roleOf(c: Conversation, userId: number): Role | null {
  return c.members.find((m) => m.user.id === userId)?.role ?? null;
}

export function canManage(role: Role | null): boolean {
  return role === 'owner' || role === 'admin';
}

export function roleLabel(role: Role): string {
  return role === 'owner' ? 'Owner' : role === 'admin' ? 'Admin' : 'Member';
}

export interface GroupPermissions {
  rename: boolean;
  addMembers: boolean;
  leave: boolean;
  /** Whether the viewer may remove this member (never themself: that is leaving). */
  remove: (target: Member) => boolean;
}

export function groupPermissions(c: Conversation, meId: number): GroupPermissions {
  const mine = c.kind === 'group' ? roleOf(c, meId) : null;
  const manage = canManage(mine);
  return {
    rename: manage,
    addMembers: manage,
    leave: mine !== null,
    remove: (target) => manage && target.user.id !== meId && (target.role === 'member' || mine === 'owner'),
  };
}

/** Owner first, then admins, then members; by display name within a role. */
export function sortMembers(members: readonly Member[]): Member[] {
  return [...members].sort((a, b) => RANK[a.role] - RANK[b.role] || a.user.display_name.localeCompare(b.user.display_name) || a.user.id - b.user.id);
}
