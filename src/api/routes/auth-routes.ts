import { ApiError } from '../api-error.ts';
import type { ApiContext, App } from '../api-context.ts';
import { principalOf } from '../plugins/authenticate.ts';
import {
  LoginBody,
  LoginResult,
  LogoutAllResult,
  PasswordChangeBody,
  PasswordResetBody,
  PasswordSetResult,
  RefreshResult,
  RegisterBody,
  UserProfile,
} from '../schemas/auth-schemas.ts';
import { Message, Ok, errors } from '../schemas/common.ts';
import { eventHubOf } from '../task-event-hub.ts';
import { userProfile } from '../views/user-view.ts';

/** Accounts and sessions: register, login (by username or email), logout, logout-all, me, refresh, password change and reset. */
export function authRoutes(app: App, ctx: ApiContext): void {
  app.post('/auth/register', {
    config: { access: 'public' },
    schema: {
      operationId: 'register',
      tags: ['auth'],
      summary: 'Create an account (role user, or an invitation\'s role)',
      description:
        'Under the server\'s registration policy (`auth.registration`): `open` takes anyone; `invite` needs `invitation_token` ' +
        '(403 without one, 400 when it is unknown, expired or used; the account gets the invitation\'s role); `closed` answers 403. ' +
        'A taken username or email answers 409 "username or email is unavailable", the same for both, so registration does not tell which exists.',
      body: RegisterBody,
      response: { 201: Ok(UserProfile), ...errors(400, 403, 409, 429) },
    },
  }, async (request, reply) => {
    const wait = ctx.registerLimit.take(request.ip);
    if (wait > 0) throw new ApiError('RATE_LIMITED', 'Too many registrations from this address; try again later', { retryAfterMs: wait });
    const { invitation_token: invitation, ...account } = request.body;
    const user = await ctx.auth.register(account, invitation);
    return reply.status(201).send({ success: true, data: userProfile(user) });
  });

  app.post('/auth/login', {
    config: { access: 'public' },
    schema: {
      operationId: 'login',
      tags: ['auth'],
      summary: 'Open a session',
      description: 'Give `username_or_email` (or `username`, or `email`) and `password`. Failed logins are throttled per account and per address (429 with Retry-After).',
      body: LoginBody,
      response: { 200: Ok(LoginResult), ...errors(400, 401, 429) },
    },
  }, async (request) => {
    const { username_or_email, username, email, password, user_agent } = request.body;
    const given = [username_or_email, username, email].filter((v) => v !== undefined);
    if (given.length !== 1) {
      throw new ApiError('VALIDATION_FAILED', 'username_or_email: give exactly one of username_or_email, username or email', { field: 'username_or_email' });
    }
    const userAgent = user_agent ?? (typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : null);
    const result = await ctx.auth.login({ login: given[0]!, password, address: request.ip, userAgent });
    request.log.info({ userId: result.user.id }, 'logged in');
    return {
      success: true as const,
      data: { session_token: result.token, token_type: 'Bearer' as const, expires_at: result.session.expiresAt.toISOString(), user: userProfile(result.user) },
    };
  });

  app.post('/auth/logout', {
    schema: { operationId: 'logout', tags: ['auth'], summary: 'End this session', response: { 200: Ok(Message), ...errors(401) } },
  }, async (request) => {
    const { session } = principalOf(request);
    await ctx.auth.logout(session);
    eventHubOf(ctx).endSessions({ sessionHash: session.tokenHash });
    return { success: true as const, data: { message: 'Logged out successfully' } };
  });

  app.post('/auth/logout-all', {
    schema: { operationId: 'logoutAll', tags: ['auth'], summary: 'End every session of this account', response: { 200: Ok(LogoutAllResult), ...errors(401) } },
  }, async (request) => {
    const { user } = principalOf(request);
    const ended = await ctx.auth.logoutAll(user.id);
    eventHubOf(ctx).endSessions({ userId: user.id });
    return { success: true as const, data: { message: `Ended ${ended} session(s)`, sessions_ended: ended } };
  });

  app.get('/auth/me', {
    schema: { operationId: 'getCurrentUser', tags: ['auth'], summary: 'The signed-in user', response: { 200: Ok(UserProfile), ...errors(401) } },
  }, async (request) => ({ success: true as const, data: userProfile(principalOf(request).user) }));

  app.post('/auth/refresh', {
    schema: {
      operationId: 'refreshSession',
      tags: ['auth'],
      summary: 'Extend this session',
      description: 'Sets the expiry to a full session lifetime from now (within the absolute lifetime). A second refresh within 5 minutes answers 409.',
      response: { 200: Ok(RefreshResult), ...errors(401, 409) },
    },
  }, async (request) => {
    const { expiresAt, refreshedAt } = await ctx.auth.refresh(principalOf(request).session);
    return { success: true as const, data: { expires_at: expiresAt.toISOString(), refreshed_at: refreshedAt.toISOString() } };
  });

  app.post('/auth/password', {
    schema: {
      operationId: 'changePassword',
      tags: ['auth'],
      summary: 'Change this account\'s password',
      description:
        'Needs `current_password` (403 when wrong; failures count towards the login throttle, 429 with Retry-After). ' +
        'The new password follows the password policy (400). Every other session of the account ends; this one stays.',
      body: PasswordChangeBody,
      response: { 200: Ok(PasswordSetResult), ...errors(400, 401, 403, 429) },
    },
  }, async (request) => {
    const { user, session } = principalOf(request);
    const result = await ctx.auth.changePassword({ user, session, currentPassword: request.body.current_password, newPassword: request.body.new_password, address: request.ip });
    return { success: true as const, data: { message: `Password changed; ${result.sessionsEnded} other session(s) ended`, sessions_ended: result.sessionsEnded } };
  });

  app.post('/auth/password-reset', {
    config: { access: 'public' },
    schema: {
      operationId: 'resetPassword',
      tags: ['auth'],
      summary: 'Set a new password with an admin-issued reset token',
      description:
        'The token comes from an admin (POST /users/:id/password-reset, the dashboard\'s users page, or `conveyor users reset-password`). ' +
        'It works once and expires (`auth.password_reset_ttl_ms`, 1 hour by default); an unknown, expired or used token answers 400 on `token`. ' +
        'Every session of the account ends; log in with the new password.',
      body: PasswordResetBody,
      response: { 200: Ok(PasswordSetResult), ...errors(400, 429) },
    },
  }, async (request) => {
    // Tokens have 256 bits, so guessing is hopeless; the limit bounds the hashing work strangers can cause.
    const wait = ctx.registerLimit.take(request.ip);
    if (wait > 0) throw new ApiError('RATE_LIMITED', 'Too many requests from this address; try again later', { retryAfterMs: wait });
    const result = await ctx.auth.resetPassword({ token: request.body.token, newPassword: request.body.new_password });
    request.log.info({ targetUserId: result.user.id, sessionsEnded: result.sessionsEnded }, 'password reset with a token');
    return { success: true as const, data: { message: `Password reset; ${result.sessionsEnded} session(s) ended`, sessions_ended: result.sessionsEnded } };
  });
}
