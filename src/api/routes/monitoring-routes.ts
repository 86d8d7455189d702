import { Type } from '@sinclair/typebox';
import { breakerStateAt, closedBreaker, type BreakerState } from '../../core/circuit-breaker.ts';
import { TASK_TYPE_PATTERN } from '../../core/new-task.ts';
import { ApiError } from '../api-error.ts';
import type { ApiContext, App } from '../api-context.ts';
import { Ok, errors } from '../schemas/common.ts';
import { BreakerParams, BreakerView, WorkerView } from '../schemas/monitoring-schemas.ts';
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
      summary: 'The circuit breaker of every task type',
      description: 'While a type\'s breaker is open, workers do not claim its tasks; they wait without spending attempts.',
      response: { 200: Ok(Type.Array(BreakerView)), ...errors(401) },
    },
  }, async () => {
    const now = ctx.clock.now();
    const [breakers, types] = await Promise.all([ctx.engine.breakerList(), ctx.taskTypes.list()]);
    const byType = new Map(breakers.map((b) => [b.taskType, b]));
    // Types that never failed have no breaker row yet: show them closed.
    for (const type of types) if (!byType.has(type.name)) byType.set(type.name, { ...closedBreaker(type.name, now), updatedAt: null as unknown as Date });
    const data = [...byType.values()].sort((a, b) => a.taskType.localeCompare(b.taskType)).map((b) => breakerView(b, now));
    return { success: true as const, data };
  });

  app.post('/circuit-breakers/:task_type/reset', {
    config: { access: 'admin' },
    schema: {
      operationId: 'resetCircuitBreaker',
      tags: ['monitoring'],
      summary: 'Close a circuit breaker by hand (admins)',
      params: BreakerParams,
      response: { 200: Ok(BreakerView), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => {
    const taskType = request.params.task_type;
    if (!TASK_TYPE_PATTERN.test(taskType)) throw new ApiError('VALIDATION_FAILED', 'task_type: is not a valid task type name', { field: 'task_type' });
    const known = (await ctx.engine.breakerGet({ taskType })) !== null || (await ctx.taskTypes.list()).some((t) => t.name === taskType);
    if (!known) throw new ApiError('NOT_FOUND', `No task type or breaker named "${taskType}"`);
    const now = ctx.clock.now();
    const breaker = await ctx.engine.breakerReset({ taskType, now });
    request.log.info({ taskType, by: request.principal?.user.id }, 'circuit breaker reset by hand');
    return { success: true as const, data: breakerView(breaker, now) };
  });
}

function breakerView(b: BreakerState, now: Date) {
  return {
    task_type: b.taskType,
    state: breakerStateAt(b, now),
    consecutive_failures: b.consecutiveFailures,
    consecutive_successes: b.consecutiveSuccesses,
    opened_at: isoOrNull(b.openedAt),
    reopens_at: isoOrNull(b.reopensAt),
    updated_at: isoOrNull(b.updatedAt),
  };
}
