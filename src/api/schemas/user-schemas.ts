import { Type, type Static } from '@sinclair/typebox';
import { Role, UserProfile } from './auth-schemas.ts';
import { Uuid } from './common.ts';
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
