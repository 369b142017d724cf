import { describe, expect, it } from 'vitest';
import type { Member } from '../api/types';
import { conv } from './fixtures';
import { canManage, canPin, groupPermissions, roleLabel, roleOf, sortMembers, type Role } from './roles';

const member = (id: number, name: string, role: Role): Member => ({ user: { id, username: name.toLowerCase(), display_name: name }, role, last_read_seq: 0, last_delivered_seq: 0 });
const owner = member(1, 'Olive', 'owner');
const admin = member(2, 'Adam', 'admin');
const admin2 = member(5, 'Ada', 'admin');
const plain = member(3, 'Mia', 'member');
const plain2 = member(4, 'Ben', 'member');
const group = conv({ kind: 'group', title: 'Team', members: [plain, admin, owner, plain2, admin2] });

describe('roles', () => {
  it('finds a member role, null for non-members', () => {
    expect(roleOf(group, 2)).toBe('admin');
    expect(roleOf(group, 99)).toBeNull();
  });

  it('owner and admin manage, members do not', () => {
    expect(canManage('owner')).toBe(true);
    expect(canManage('admin')).toBe(true);
    expect(canManage('member')).toBe(false);
    expect(canManage(null)).toBe(false);
    expect(roleLabel('owner')).toBe('Owner');
  });

  it('the owner renames, adds, and removes anyone but themself', () => {
    const p = groupPermissions(group, owner.user.id);
    expect(p.rename && p.addMembers && p.leave).toBe(true);
    expect([admin, admin2, plain, plain2].every(p.remove)).toBe(true);
    expect(p.remove(owner)).toBe(false);
  });

  it('an admin renames, adds, removes plain members but not the owner or another admin', () => {
    const p = groupPermissions(group, admin.user.id);
    expect(p.rename && p.addMembers && p.leave).toBe(true);
    expect(p.remove(plain)).toBe(true);
    expect(p.remove(owner)).toBe(false);
    expect(p.remove(admin2)).toBe(false);
    expect(p.remove(admin)).toBe(false);
  });

  it('a plain member may only leave', () => {
    const p = groupPermissions(group, plain.user.id);
    expect(p.rename || p.addMembers).toBe(false);
    expect(p.leave).toBe(true);
    expect([owner, admin, plain2].some(p.remove)).toBe(false);
  });

  it('nothing in a direct conversation, nor for a non-member', () => {
    const direct = conv({ members: [member(1, 'Olive', 'owner'), member(2, 'Adam', 'member')] });
    const d = groupPermissions(direct, 1);
    expect(d.rename || d.addMembers || d.leave || d.remove(direct.members[1])).toBe(false);
    const outsider = groupPermissions(group, 99);
    expect(outsider.rename || outsider.leave || outsider.remove(plain)).toBe(false);
  });

  it('pins: owner and admins of a group, not members; either person of a direct chat; nobody outside', () => {
    expect(canPin(group, owner.user.id)).toBe(true);
    expect(canPin(group, admin.user.id)).toBe(true);
    expect(canPin(group, plain.user.id)).toBe(false);
    expect(canPin(group, 99)).toBe(false);
    const direct = conv({ members: [member(1, 'Olive', 'member'), member(2, 'Adam', 'member')] });
    expect(canPin(direct, 1) && canPin(direct, 2)).toBe(true);
    expect(canPin(direct, 3)).toBe(false);
  });

  it('the owner makes a member admin, an admin a member, and hands ownership to either (with a confirmation)', () => {
    const p = groupPermissions(group, owner.user.id);
    expect(p.roleChanges(plain)).toEqual([
      { role: 'admin', label: 'Make admin', confirm: false },
      { role: 'owner', label: 'Make owner', confirm: true },
    ]);
    expect(p.roleChanges(admin).map((r) => r.role)).toEqual(['member', 'owner']);
    expect(p.roleChanges(owner)).toEqual([]);
  });

  it('nobody but the owner changes roles', () => {
    for (const viewer of [admin, plain]) {
      const p = groupPermissions(group, viewer.user.id);
      expect([owner, admin, admin2, plain, plain2].flatMap(p.roleChanges)).toEqual([]);
    }
    const direct = conv({ members: [member(1, 'Olive', 'owner'), member(2, 'Adam', 'member')] });
    expect(groupPermissions(direct, 1).roleChanges(direct.members[1])).toEqual([]);
    expect(groupPermissions(group, 99).roleChanges(plain)).toEqual([]);
  });

  it('sorts owner, admins, members, by name within a role', () => {
    expect(sortMembers(group.members).map((m) => m.user.display_name)).toEqual(['Olive', 'Ada', 'Adam', 'Ben', 'Mia']);
  });
});
