import type { AccountTokenRecord } from '../../store/engine.ts';
import { iso } from './iso.ts';

/** An open invitation as the API and `conveyor users invitations --json` show it: never its token. */
export function invitationView(invitation: AccountTokenRecord) {
  return {
    id: invitation.tokenHash,
    role: invitation.role ?? 'user',
    created_by: invitation.createdBy,
    created_at: iso(invitation.createdAt),
    expires_at: iso(invitation.expiresAt),
  };
}
