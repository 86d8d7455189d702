import { Type, type Static } from '@sinclair/typebox';
import { Role, UserProfile } from './auth-schemas.ts';
import { DateTime, Nullable, Uuid } from './common.ts';
import { USER_PROFILE_EXAMPLE } from './examples.ts';

export const UserIdParams = Type.Object({ id: Uuid });

export const UserListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0, description: 'How many users to skip (oldest first)' })),
  },
  { additionalProperties: false },
);

export const UserPatchBody = Type.Object(
  {
    role: Type.Optional(Role),
    is_active: Type.Optional(Type.Boolean({ description: 'false signs the user out everywhere and refuses their logins until set back to true' })),
  },
  { additionalProperties: false },
);
export type UserPatchBody = Static<typeof UserPatchBody>;

/** The users list: offset paging (accounts are few and ordered by creation), with the total. */
export const UserPage = Type.Object({
  success: Type.Literal(true),
  data: Type.Array(UserProfile),
  pagination: Type.Object({ limit: Type.Integer(), offset: Type.Integer(), total: Type.Integer() }),
});

export const UserPatchResult = Type.Object(
  {
    ...UserProfile.properties,
    sessions_ended: Type.Integer({ description: 'Sessions ended by this change (a deactivation ends them all)' }),
  },
  { examples: [{ ...USER_PROFILE_EXAMPLE, role: 'moderator', sessions_ended: 0 }] },
);

export const InvitationBody = Type.Object(
  {
    role: Type.Optional(Role),
    expires_in_hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 365, description: 'Defaults to auth.invitation_ttl_ms (7 days)' })),
  },
  { additionalProperties: false, examples: [{ role: 'user' }] },
);

const InvitationId = Type.String({
  pattern: '^[0-9a-f]{64}$',
  description: 'The invitation\'s id: the SHA-256 of its token (what is stored). It names the invitation in lists and to revoke it, and cannot be used to register',
  examples: ['3f0d5a1c9e7b2f4a6c8e0d2b4f6a8c0e2d4b6f8a0c2e4d6b8f0a2c4e6d8b0f2a'],
});

export const InvitationIdParams = Type.Object({ id: InvitationId });

export const InvitationResult = Type.Object(
  {
    id: InvitationId,
    invitation_token: Type.String({ description: 'Shown once; give it as `invitation_token` to POST /auth/register. Only its hash is stored' }),
    role: Role,
    expires_at: DateTime,
  },
  { examples: [{ id: '3f0d5a1c9e7b2f4a6c8e0d2b4f6a8c0e2d4b6f8a0c2e4d6b8f0a2c4e6d8b0f2a', invitation_token: 'b1Zq0c4Ue8Xl2p6Rj9s3Tf7Wk5Hn1Ga8Yd0Mv4Ex2Q', role: 'user', expires_at: '2026-01-08T12:00:00.000Z' }] },
);

/** An open invitation (unused, unexpired); its token is never shown again. */
export const Invitation = Type.Object(
  {
    id: InvitationId,
    role: Role,
    created_by: Nullable(Type.String({ description: 'The user who issued it; null when issued at the CLI (or that user was deleted)' })),
    created_at: DateTime,
    expires_at: DateTime,
  },
  { examples: [{ id: '3f0d5a1c9e7b2f4a6c8e0d2b4f6a8c0e2d4b6f8a0c2e4d6b8f0a2c4e6d8b0f2a', role: 'user', created_by: USER_PROFILE_EXAMPLE.id, created_at: '2026-01-01T12:00:00.000Z', expires_at: '2026-01-08T12:00:00.000Z' }] },
);

export const InvitationRevoked = Type.Object({ id: InvitationId, revoked: Type.Literal(true) });

export const PasswordResetIssueBody = Type.Object(
  { expires_in_hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 30, description: 'Defaults to auth.password_reset_ttl_ms (1 hour)' })) },
  { additionalProperties: false },
);

export const PasswordResetIssued = Type.Object(
  {
    user_id: Type.String(),
    reset_token: Type.String({ description: 'Shown once; the account\'s owner gives it to POST /auth/password-reset with a new password. Only its hash is stored' }),
    expires_at: DateTime,
  },
  { examples: [{ user_id: USER_PROFILE_EXAMPLE.id, reset_token: 'q9Xb3Vd0e5bq2l8Kc2r6lT1w8N4fZ0pJm3sY7aHkU1c', expires_at: '2026-01-01T13:00:00.000Z' }] },
);
