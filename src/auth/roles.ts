import type { UserRole } from '../store/engine.ts';

const RANK: Readonly<Record<UserRole, number>> = { user: 0, moderator: 1, admin: 2 };

/** Roles are ordered: an admin may do what a moderator may, a moderator what a user may. */
export function hasRole(role: UserRole, required: UserRole): boolean {
  return RANK[role] >= RANK[required];
}

/** Moderators and admins see and act on every task; users only on their own. */
export function seesAllTasks(role: UserRole): boolean {
  return hasRole(role, 'moderator');
}
