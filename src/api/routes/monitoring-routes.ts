import { Type } from '@sinclair/typebox';
import { seesAllTasks } from '../../auth/roles.ts';
import { breakerLabel } from '../../core/breaker-scope.ts';
import { breakerStateAt, closedBreaker, type BreakerState } from '../../core/circuit-breaker.ts';
import { TASK_TYPE_PATTERN } from '../../core/new-task.ts';
import { ApiError } from '../api-error.ts';
import type { ApiContext, App } from '../api-context.ts';
import { Ok, errors } from '../schemas/common.ts';
import { BreakerParams, BreakerResetQuery, BreakerView, WorkerView } from '../schemas/monitoring-schemas.ts';
import { isoOrNull } from '../views/iso.ts';
import { workerView } from '../views/worker-view.ts';

/** Workers and circuit breakers: what the dashboard's monitoring pages read. */
export function monitoringRoutes(app: App, ctx: ApiContext): void {
  app.get('/workers', {
    config: { access: 'moderator' },
    schema: { operationId: 'listWorkers', tags: ['monitoring'], summary: 'Workers and their heartbeats (moderators and admins)', response: { 200: Ok(Type.Array(WorkerView)), ...errors(401, 403) } },
  }, async () => {
    const now = ctx.clock.now();
    const workers = await ctx.engine.workerList();
    const data = workers.map((w) => workerView(w, now, ctx.config.workers.liveAfterMs));
    return { success: true as const, data };
  });

  app.get('/circuit-breakers', {
    schema: {
      operationId: 'listCircuitBreakers',
      tags: ['monitoring'],
      summary: 'The circuit breaker of every task type, and of every scope (a webhook\'s host) that has one',
      description:
        'While a type\'s breaker is open, workers do not claim its tasks; they wait without spending attempts. A webhook breaker is kept per ' +
        'destination host (`scope`), so one unreachable host pauses only the webhooks that go there. Scoped breakers name other users\' ' +
        'destinations, so only moderators and admins see them.',
      response: { 200: Ok(Type.Array(BreakerView)), ...errors(401) },
    },
  }, async (request) => {
    const now = ctx.clock.now();
    const [breakers, types] = await Promise.all([ctx.engine.breakerList(), ctx.taskTypes.list()]);
    const seesScopes = request.principal !== undefined && request.principal !== null && seesAllTasks(request.principal.user.role);
    const byLabel = new Map(breakers.filter((b) => b.scope === null || seesScopes).map((b) => [breakerLabel(b.taskType, b.scope), b]));
    // Types that never failed have no breaker row yet: show them closed.
    for (const type of types) if (!byLabel.has(type.name)) byLabel.set(type.name, { ...closedBreaker(type.name, now), updatedAt: null as unknown as Date });
    const data = [...byLabel.values()]
      .sort((a, b) => a.taskType.localeCompare(b.taskType) || (a.scope ?? '').localeCompare(b.scope ?? ''))
      .map((b) => breakerView(b, now));
    return { success: true as const, data };
  });

  app.post('/circuit-breakers/:task_type/reset', {
    config: { access: 'admin' },
    schema: {
      operationId: 'resetCircuitBreaker',
      tags: ['monitoring'],
      summary: 'Close a circuit breaker by hand (admins)',
      description: 'With `?scope=host`, closes that scope\'s breaker (a webhook\'s destination host); without, the type\'s own.',
      params: BreakerParams,
      querystring: BreakerResetQuery,
      response: { 200: Ok(BreakerView), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => {
    const taskType = request.params.task_type;
    const scope = request.query.scope ?? null;
    if (!TASK_TYPE_PATTERN.test(taskType)) throw new ApiError('VALIDATION_FAILED', 'task_type: is not a valid task type name', { field: 'task_type' });
    // A scope's breaker exists once one of its tasks failed; a type's is known from its registration too.
    const known =
      (await ctx.engine.breakerGet({ taskType, scope })) !== null || (scope === null && (await ctx.taskTypes.list()).some((t) => t.name === taskType));
    if (!known) throw new ApiError('NOT_FOUND', `No task type or breaker named "${breakerLabel(taskType, scope)}"`);
    const now = ctx.clock.now();
    const breaker = await ctx.engine.breakerReset({ taskType, scope, now });
    request.log.info({ taskType, scope, by: request.principal?.user.id }, 'circuit breaker reset by hand');
    return { success: true as const, data: breakerView(breaker, now) };
  });
}

function breakerView(b: BreakerState, now: Date) {
  return {
    task_type: b.taskType,
    scope: b.scope,
    label: breakerLabel(b.taskType, b.scope),
    state: breakerStateAt(b, now),
    consecutive_failures: b.consecutiveFailures,
    consecutive_successes: b.consecutiveSuccesses,
    opened_at: isoOrNull(b.openedAt),
    reopens_at: isoOrNull(b.reopensAt),
    updated_at: isoOrNull(b.updatedAt),
  };
}
