import type { UserRecord } from '../../store/engine.ts';
import { iso, isoOrNull } from './iso.ts';

/** What a user may see of an account: never the password hash. */
export function userProfile(user: UserRecord) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    role: user.role,
    is_active: user.isActive,
    created_at: iso(user.createdAt),
    last_login_at: isoOrNull(user.lastLoginAt),
  };
}
