import type { UserRecord } from '../../store/engine.ts';
import { ApiError, notFound } from '../api-error.ts';
import type { ApiContext, App } from '../api-context.ts';
import { principalOf } from '../plugins/authenticate.ts';
import { Ok, errors } from '../schemas/common.ts';
import { UserIdParams, UserListQuery, UserPage, UserPatchBody, UserPatchResult } from '../schemas/user-schemas.ts';
import { userProfile } from '../views/user-view.ts';

/** Account administration (admins only): list the users, change a role, deactivate or reactivate. */
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
    request.log.info(
      { targetUserId: target.id, by: caller.id, role: { from: target.role, to: updated.role }, isActive: { from: target.isActive, to: updated.isActive }, sessionsEnded },
      'user account changed by an admin',
    );
    return { success: true as const, data: { ...userProfile(updated), sessions_ended: sessionsEnded } };
  });
}
