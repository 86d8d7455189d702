import { Type } from '@sinclair/typebox';
import { TASK_TYPE_PATTERN } from '../../core/new-task.ts';
import { ApiError } from '../api-error.ts';
import type { ApiContext, App } from '../api-context.ts';
import { liveWorkers } from '../live-workers.ts';
import { principalOf } from '../plugins/authenticate.ts';
import { Ok, errors } from '../schemas/common.ts';
import { LimitBody, PauseBody, TaskTypeParams, TaskTypeView, TypeLimitView, TypePauseView } from '../schemas/task-schemas.ts';
import { isoOrNull } from '../views/iso.ts';

/** The task types: what workers run, with payload schemas; pausing, resuming and limiting one (operators). */
export function taskTypeRoutes(app: App, ctx: ApiContext): void {
  app.get('/tasks/types', {
    schema: {
      operationId: 'listTaskTypes',
      tags: ['tasks'],
      summary: 'Registered task types, their payload schemas, whether a live worker handles them, and whether they are paused',
      response: { 200: Ok(Type.Array(TaskTypeView)), ...errors(401) },
    },
  }, async () => {
    const [types, workers, pauses, limits, running] = await Promise.all([
      ctx.taskTypes.list(),
      liveWorkers(ctx),
      ctx.engine.typePauseList(),
      ctx.engine.typeLimitList(),
      ctx.engine.typeRunningCounts(),
    ]);
    const pausedBy = new Map(pauses.map((p) => [p.taskType, p]));
    const limitOf = new Map(limits.map((l) => [l.taskType, l.maxRunning]));
    const data = types.map((t) => {
      const live = workers.filter((w) => w.taskTypes.includes(t.name)).length;
      const pause = pausedBy.get(t.name);
      return {
        task_type: t.name,
        description: t.description,
        payload_schema: t.payloadSchema,
        examples: t.examples,
        timeout_ms: t.timeoutMs,
        registered_at: isoOrNull(t.createdAt),
        updated_at: isoOrNull(t.updatedAt),
        last_seen_at: isoOrNull(t.lastSeenAt),
        live_workers: live,
        has_live_worker: live > 0,
        paused: pause !== undefined,
        paused_at: isoOrNull(pause?.pausedAt),
        paused_reason: pause?.reason ?? null,
        max_running: limitOf.get(t.name) ?? null,
        running: running[t.name] ?? 0,
      };
    });
    return { success: true as const, data };
  });

  /** The type named in the path, if Conveyor knows it (registered, or paused or limited already). */
  async function knownType(taskType: string): Promise<string> {
    if (!TASK_TYPE_PATTERN.test(taskType)) throw new ApiError('VALIDATION_FAILED', 'task_type: is not a valid task type name', { field: 'task_type' });
    const known =
      (await ctx.taskTypes.list()).some((t) => t.name === taskType) ||
      (await ctx.engine.typePauseList()).some((p) => p.taskType === taskType) ||
      (await ctx.engine.typeLimitList()).some((l) => l.taskType === taskType);
    if (!known) throw new ApiError('NOT_FOUND', `No task type named "${taskType}"`);
    return taskType;
  }

  app.post('/tasks/types/:task_type/pause', {
    config: { access: 'moderator' },
    schema: {
      operationId: 'pauseTaskType',
      tags: ['tasks'],
      summary: 'Pause a task type (moderators and admins)',
      description:
        'Workers stop claiming its tasks, which wait without spending attempts (tasks already running finish). ' +
        'For a downstream outage or maintenance you know of; a circuit breaker does the same by itself when failures pile up. Pausing again only updates the reason.',
      params: TaskTypeParams,
      body: Type.Union([PauseBody, Type.Null()], { description: 'Optional: {reason}' }),
      response: { 200: Ok(TypePauseView), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => {
    const taskType = await knownType(request.params.task_type);
    const { user } = principalOf(request);
    const pause = await ctx.engine.typePause({ taskType, now: ctx.clock.now(), pausedBy: user.id, reason: request.body?.reason ?? null });
    request.log.info({ taskType, by: user.id, reason: pause.reason }, 'task type paused');
    return { success: true as const, data: { task_type: taskType, paused: true, paused_at: pause.pausedAt.toISOString(), paused_by: pause.pausedBy, reason: pause.reason } };
  });

  app.post('/tasks/types/:task_type/resume', {
    config: { access: 'moderator' },
    schema: {
      operationId: 'resumeTaskType',
      tags: ['tasks'],
      summary: 'Resume a paused task type (moderators and admins)',
      description: 'Its waiting tasks are claimed again at once, in their usual order. Resuming a type that is not paused changes nothing.',
      params: TaskTypeParams,
      response: { 200: Ok(TypePauseView), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => {
    const taskType = await knownType(request.params.task_type);
    if (await ctx.engine.typeResume({ taskType })) request.log.info({ taskType, by: principalOf(request).user.id }, 'task type resumed');
    return { success: true as const, data: { task_type: taskType, paused: false, paused_at: null, paused_by: null, reason: null } };
  });

  app.put('/tasks/types/:task_type/limit', {
    config: { access: 'moderator' },
    schema: {
      operationId: 'setTaskTypeLimit',
      tags: ['tasks'],
      summary: 'Limit how many tasks of a type run at once, across every worker (moderators and admins)',
      description:
        'For a downstream that takes only so many requests at once. Claims never take the type past the limit (claimed tasks count as running); ' +
        'the rest wait in their usual order, spending nothing. Applies within a second. Tasks already running over a lowered limit finish.',
      params: TaskTypeParams,
      body: LimitBody,
      response: { 200: Ok(TypeLimitView), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => {
    const taskType = await knownType(request.params.task_type);
    const { user } = principalOf(request);
    const limit = (await ctx.engine.typeLimitSet({ taskType, maxRunning: request.body.max_running, now: ctx.clock.now(), by: user.id }))!;
    request.log.info({ taskType, by: user.id, maxRunning: limit.maxRunning }, 'task type limit set');
    return { success: true as const, data: { task_type: taskType, max_running: limit.maxRunning, updated_at: limit.updatedAt.toISOString(), updated_by: limit.updatedBy } };
  });

  app.delete('/tasks/types/:task_type/limit', {
    config: { access: 'moderator' },
    schema: {
      operationId: 'removeTaskTypeLimit',
      tags: ['tasks'],
      summary: 'Remove a task type\'s concurrency limit (moderators and admins)',
      params: TaskTypeParams,
      response: { 200: Ok(TypeLimitView), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => {
    const taskType = await knownType(request.params.task_type);
    await ctx.engine.typeLimitSet({ taskType, maxRunning: null, now: ctx.clock.now(), by: principalOf(request).user.id });
    request.log.info({ taskType, by: principalOf(request).user.id }, 'task type limit removed');
    return { success: true as const, data: { task_type: taskType, max_running: null, updated_at: null, updated_by: null } };
  });
}
