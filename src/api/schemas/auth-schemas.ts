import { Type } from '@sinclair/typebox';
import { USER_ROLES } from '../../store/engine.ts';
import { LOGIN_EXAMPLE, REGISTER_EXAMPLE, SESSION_TOKEN_EXAMPLE, USER_PROFILE_EXAMPLE } from './examples.ts';
import { DateTime, NullableDateTime, StringEnum } from './common.ts';

export const Role = StringEnum(USER_ROLES);

export const RegisterBody = Type.Object(
  {
    username: Type.String({ description: '3-50 letters, digits, _ or -' }),
    email: Type.String({ maxLength: 254 }),
    password: Type.String({ description: '8-128 characters mixing 3 of: lower, upper, digits, symbols; not a common password' }),
    invitation_token: Type.Optional(Type.String({ maxLength: 256, description: 'Needed when the server\'s registration policy is `invite`: a token from POST /users/invitations; the account gets its role' })),
  },
  { additionalProperties: false, examples: [REGISTER_EXAMPLE] },
);

const NewPassword = Type.String({ minLength: 1, maxLength: 1024, description: 'Follows the password policy (8-128 characters mixing 3 of: lower, upper, digits, symbols; not a common password)' });

export const PasswordChangeBody = Type.Object(
  { current_password: Type.String({ minLength: 1, maxLength: 1024 }), new_password: NewPassword },
  { additionalProperties: false, examples: [{ current_password: 'Correct-Horse-42', new_password: 'Battery-Staple-57' }] },
);

export const PasswordResetBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 256, description: 'The reset token an admin issued (POST /users/:id/password-reset or `conveyor users reset-password`)' }), new_password: NewPassword },
  { additionalProperties: false, examples: [{ token: 'q9Xb3Vd0e5bq2l8Kc2r6lT1w8N4fZ0pJm3sY7aHkU1c', new_password: 'Battery-Staple-57' }] },
);

export const PasswordSetResult = Type.Object(
  {
    message: Type.String(),
    sessions_ended: Type.Integer({ description: 'Sessions ended: every other session on a change, every session on a reset' }),
  },
  { examples: [{ message: 'Password changed; 1 other session(s) ended', sessions_ended: 1 }] },
);

export const LoginBody = Type.Object(
  {
    username_or_email: Type.Optional(Type.String({ minLength: 1, maxLength: 254, description: 'The guide\'s field; or give `username` or `email`' })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    user_agent: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false, examples: [LOGIN_EXAMPLE] },
);

export const UserProfile = Type.Object(
  {
    id: Type.String(),
    username: Type.String(),
    email: Type.String(),
    role: Role,
    is_active: Type.Boolean(),
    created_at: DateTime,
    last_login_at: NullableDateTime,
  },
  { $id: 'UserProfile', examples: [USER_PROFILE_EXAMPLE] },
);

export const LoginResult = Type.Object({
  session_token: Type.String({ description: 'Send as `Authorization: Bearer <session_token>`', examples: [SESSION_TOKEN_EXAMPLE] }),
  token_type: Type.Literal('Bearer'),
  expires_at: DateTime,
  user: UserProfile,
});

export const RefreshResult = Type.Object({ expires_at: DateTime, refreshed_at: DateTime });
export const LogoutAllResult = Type.Object({ message: Type.String(), sessions_ended: Type.Integer() }, { examples: [{ message: 'Ended 2 session(s)', sessions_ended: 2 }] });
