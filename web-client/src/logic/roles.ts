// Who may do what in a group, by role — the same rules the server enforces (it answers 403 otherwise):
// the owner does everything: rename, add, remove anyone, pin, and change roles (make a member admin, an admin a
// member, or hand ownership over, becoming an admin); an admin renames, adds, removes plain members and pins; a
// member sends, reacts, replies, edits and deletes their own messages, and leaves. Direct conversations have no
// management, but either person pins.
import type { Conversation, Member, Role } from '../api/types';

export type { Role };

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

/** A role change the owner can make for one member. */
export type RoleChange = { role: Role; label: string; confirm: boolean };

export interface GroupPermissions {
  rename: boolean;
  addMembers: boolean;
  leave: boolean;
  /** Pin and unpin messages. */
  pin: boolean;
  /** Whether the viewer may remove this member (never themself: that is leaving). */
  remove: (target: Member) => boolean;
  /** The role changes the viewer may make for this member (only the owner, never for themself). */
  roleChanges: (target: Member) => RoleChange[];
}

export function groupPermissions(c: Conversation, meId: number): GroupPermissions {
  const mine = roleOf(c, meId);
  if (c.kind !== 'group') {
    return { rename: false, addMembers: false, leave: false, pin: mine !== null, remove: () => false, roleChanges: () => [] };
  }
  const manage = canManage(mine);
  return {
    rename: manage,
    addMembers: manage,
    leave: mine !== null,
    pin: manage,
    remove: (target) => manage && target.user.id !== meId && (target.role === 'member' || mine === 'owner'),
    roleChanges: (target) => {
      if (mine !== 'owner' || target.user.id === meId || target.role === 'owner') return [];
      const promote: RoleChange = target.role === 'member' ? { role: 'admin', label: 'Make admin', confirm: false } : { role: 'member', label: 'Remove admin', confirm: false };
      return [promote, { role: 'owner', label: 'Make owner', confirm: true }];
    },
  };
}

/** Whether the viewer may pin or unpin in this conversation (either person of a direct chat). */
export function canPin(c: Conversation, meId: number): boolean {
  return groupPermissions(c, meId).pin;
}

/** Owner first, then admins, then members; by display name within a role. */
export function sortMembers(members: readonly Member[]): Member[] {
  return [...members].sort((a, b) => RANK[a.role] - RANK[b.role] || a.user.display_name.localeCompare(b.user.display_name) || a.user.id - b.user.id);
}
