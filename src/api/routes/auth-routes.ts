import { ApiError } from '../api-error.ts';
import type { ApiContext, App } from '../api-context.ts';
import { principalOf } from '../plugins/authenticate.ts';
import { LoginBody, LoginResult, LogoutAllResult, RefreshResult, RegisterBody, UserProfile } from '../schemas/auth-schemas.ts';
import { Message, Ok, errors } from '../schemas/common.ts';
import { userProfile } from '../views/user-view.ts';

/** Accounts and sessions: register, login (by username or email), logout, logout-all, me, refresh. */
export function authRoutes(app: App, ctx: ApiContext): void {
  app.post('/auth/register', {
    config: { access: 'public' },
    schema: { operationId: 'register', tags: ['auth'], summary: 'Create an account (role user)', body: RegisterBody, response: { 201: Ok(UserProfile), ...errors(400, 409, 429) } },
  }, async (request, reply) => {
    const wait = ctx.registerLimit.take(request.ip);
    if (wait > 0) throw new ApiError('RATE_LIMITED', 'Too many registrations from this address; try again later', { retryAfterMs: wait });
    const user = await ctx.auth.createUser(request.body);
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
    await ctx.auth.logout(principalOf(request).session);
    return { success: true as const, data: { message: 'Logged out successfully' } };
  });

  app.post('/auth/logout-all', {
    schema: { operationId: 'logoutAll', tags: ['auth'], summary: 'End every session of this account', response: { 200: Ok(LogoutAllResult), ...errors(401) } },
  }, async (request) => {
    const ended = await ctx.auth.logoutAll(principalOf(request).user.id);
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
}
