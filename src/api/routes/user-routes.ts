import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { INVITATIONS_LISTED } from '../../auth/auth-service.ts';
import type { UserRecord } from '../../store/engine.ts';
import { ApiError, notFound } from '../api-error.ts';
import type { ApiContext, App } from '../api-context.ts';
import { principalOf } from '../plugins/authenticate.ts';
import { Ok, errors } from '../schemas/common.ts';
import {
  Invitation,
  InvitationBody,
  InvitationIdParams,
  InvitationResult,
  InvitationRevoked,
  PasswordResetIssueBody,
  PasswordResetIssued,
  UserIdParams,
  UserListQuery,
  UserPage,
  UserPatchBody,
  UserPatchResult,
} from '../schemas/user-schemas.ts';
import { eventHubOf } from '../task-event-hub.ts';
import { invitationView } from '../views/invitation-view.ts';
import { userProfile } from '../views/user-view.ts';

const HOUR_MS = 3_600_000;

/** For routes whose every body field is optional: no body at all means `{}`. */
async function bodyOptional(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

/**
 * Account administration: list the users, change a role, deactivate or reactivate, issue a password
 * reset (admins); issue, list and revoke invitations (moderators and admins).
 */
export function userRoutes(app: App, ctx: ApiContext): void {
  app.get('/users', {
    config: { access: 'admin' },
    schema: {
      operationId: 'listUsers',
      tags: ['users'],
      summary: 'List the accounts, oldest first (admins)',
      description: 'Paged with `limit` and `offset`; `pagination.total` counts every account. Password hashes are never part of the answer.',
      querystring: UserListQuery,
      response: { 200: UserPage, ...errors(400, 401, 403) },
    },
  }, async (request) => {
    const limit = request.query.limit ?? 50;
    const offset = request.query.offset ?? 0;
    const [users, total] = await Promise.all([ctx.engine.userList({ limit, offset }), ctx.engine.userCount({})]);
    return { success: true as const, data: users.map(userProfile), pagination: { limit, offset, total } };
  });

  app.patch('/users/:id', {
    config: { access: 'admin' },
    schema: {
      operationId: 'updateUser',
      tags: ['users'],
      summary: 'Change an account\'s role or active state (admins)',
      description:
        'Give `role`, `is_active` or both. Deactivating ends every session of the account at once and refuses its logins. ' +
        'An admin cannot demote or deactivate themselves (409), so at least one active admin always remains.',
      params: UserIdParams,
      body: UserPatchBody,
      response: { 200: Ok(UserPatchResult), ...errors(400, 401, 403, 404, 409) },
    },
  }, async (request) => {
    const caller = principalOf(request).user;
    const { role, is_active: isActive } = request.body;
    if (role === undefined && isActive === undefined) throw new ApiError('VALIDATION_FAILED', 'body: give role, is_active or both', { field: 'body' });
    const target = await ctx.engine.userGet({ id: request.params.id });
    if (!target) throw notFound('User');
    if (target.id === caller.id) {
      if (role !== undefined && role !== caller.role) throw new ApiError('CONFLICT', 'role: you cannot change your own role; ask another admin', { field: 'role' });
      if (isActive === false) throw new ApiError('CONFLICT', 'is_active: you cannot deactivate your own account; ask another admin', { field: 'is_active' });
    }

    const changes: Partial<Pick<UserRecord, 'role' | 'isActive'>> = {};
    if (role !== undefined) changes.role = role;
    if (isActive !== undefined) changes.isActive = isActive;
    const updated = await ctx.engine.userUpdate({ id: target.id, changes, now: ctx.clock.now() });
    if (!updated) throw notFound('User');
    // Authentication already refuses an inactive account; ending the sessions also frees them at once
    // and closes the account's live streams.
    const sessionsEnded = isActive === false ? await ctx.engine.sessionDeleteForUser({ userId: target.id }) : 0;
    if (isActive === false) eventHubOf(ctx).endSessions({ userId: target.id });
    request.log.info(
      { targetUserId: target.id, by: caller.id, role: { from: target.role, to: updated.role }, isActive: { from: target.isActive, to: updated.isActive }, sessionsEnded },
      'user account changed by an admin',
    );
    return { success: true as const, data: { ...userProfile(updated), sessions_ended: sessionsEnded } };
  });

  app.post('/users/invitations', {
    config: { access: 'moderator' },
    schema: {
      operationId: 'createInvitation',
      tags: ['users'],
      summary: 'Invite someone to register (moderators and admins)',
      description:
        'Returns a one-time `invitation_token`, shown once, for POST /auth/register when the registration policy is `invite` ' +
        '(it works under `open` too, to register with its role). `role` defaults to user; only an admin may invite a moderator or an admin (403).',
      body: InvitationBody,
      response: { 201: Ok(InvitationResult), ...errors(400, 401, 403) },
    },
    preValidation: bodyOptional,
  }, async (request, reply) => {
    const caller = principalOf(request).user;
    const role = request.body.role ?? 'user';
    const hours = request.body.expires_in_hours;
    const issued = await ctx.auth.invite({ by: caller, role, ttlMs: hours === undefined ? undefined : hours * HOUR_MS });
    request.log.info({ by: caller.id, role, expiresAt: issued.expiresAt }, 'invitation issued');
    return reply.status(201).send({ success: true, data: { id: issued.id, invitation_token: issued.token, role, expires_at: issued.expiresAt.toISOString() } });
  });

  app.get('/users/invitations', {
    config: { access: 'moderator' },
    schema: {
      operationId: 'listInvitations',
      tags: ['users'],
      summary: 'List the open invitations (moderators and admins)',
      description:
        `Invitations not yet used and not expired, newest first (at most ${INVITATIONS_LISTED.toLocaleString('en-US')}). Tokens are never shown again. ` +
        'A moderator sees invitations to the user role only, the ones a moderator may issue.',
      response: { 200: Ok(Type.Array(Invitation)), ...errors(401, 403) },
    },
  }, async (request) => {
    const open = await ctx.auth.invitations({ by: principalOf(request).user });
    return { success: true as const, data: open.map(invitationView) };
  });

  app.post('/users/invitations/:id/revoke', {
    config: { access: 'moderator' },
    schema: {
      operationId: 'revokeInvitation',
      tags: ['users'],
      summary: 'Revoke an open invitation (moderators and admins)',
      description: 'Its token can never be used to register. 404 when no open invitation has this id (used, expired, revoked, or to a role above user when the caller is a moderator).',
      params: InvitationIdParams,
      response: { 200: Ok(InvitationRevoked), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => {
    const caller = principalOf(request).user;
    if (!(await ctx.auth.revokeInvitation({ by: caller, id: request.params.id }))) throw notFound('Invitation');
    return { success: true as const, data: { id: request.params.id, revoked: true as const } };
  });

  app.post('/users/:id/password-reset', {
    config: { access: 'admin' },
    schema: {
      operationId: 'issuePasswordReset',
      tags: ['users'],
      summary: 'Issue a one-time password reset for an account (admins)',
      description:
        'Returns a `reset_token`, shown once, for the account\'s owner to give to POST /auth/password-reset with a new password ' +
        '(that ends every session of the account). Nothing changes until the token is used; it expires after `auth.password_reset_ttl_ms`.',
      params: UserIdParams,
      body: PasswordResetIssueBody,
      response: { 201: Ok(PasswordResetIssued), ...errors(400, 401, 403, 404) },
    },
    preValidation: bodyOptional,
  }, async (request, reply) => {
    const caller = principalOf(request).user;
    const target = await ctx.engine.userGet({ id: request.params.id });
    if (!target) throw notFound('User');
    const hours = request.body.expires_in_hours;
    const issued = await ctx.auth.issuePasswordReset({ userId: target.id, by: caller.id, ttlMs: hours === undefined ? undefined : hours * HOUR_MS });
    request.log.info({ targetUserId: target.id, by: caller.id, expiresAt: issued.expiresAt }, 'password reset issued');
    return reply.status(201).send({ success: true, data: { user_id: target.id, reset_token: issued.token, expires_at: issued.expiresAt.toISOString() } });
  });
}
