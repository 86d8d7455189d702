import type { FastifyRequest } from 'fastify';
import { ApiError } from '../api-error.ts';
import type { ApiContext, App } from '../api-context.ts';
import { principalOf } from '../plugins/authenticate.ts';
import { Ok, errors } from '../schemas/common.ts';
import { BatchBody, BatchResult, CreateTaskBody, IdempotencyHeaders, TaskDetail } from '../schemas/task-schemas.ts';
import { buildTask, idempotencyKeyHeader } from '../task-input.ts';
import { enforceCreationQuotas } from '../task-quota.ts';
import { taskDetail, taskSummary } from '../views/task-view.ts';

/**
 * POST /tasks and POST /tasks/batch. Both count against the caller's task-creating requests per minute,
 * and their tasks, each of them, against the quotas of the caller's role (task-quota.ts).
 */
export function taskCreateRoutes(app: App, ctx: ApiContext): void {
  const limit = async (request: FastifyRequest) => {
    const wait = ctx.taskCreateLimit.take(principalOf(request).user.id);
    if (wait > 0) throw new ApiError('RATE_LIMITED', 'Too many task creations; slow down', { retryAfterMs: wait });
  };

  app.post('/tasks', {
    preValidation: limit,
    schema: {
      operationId: 'createTask',
      tags: ['tasks'],
      summary: 'Create a task',
      description:
        'The payload is checked against the task type\'s schema. With an `Idempotency-Key` header, repeating the request returns the first task (200) instead of creating another (201). ' +
        'The task counts against your role\'s quotas (429 QUOTA_EXCEEDED naming the quota, with Retry-After); an email task\'s recipients against its email domains (422) and daily recipient cap (429).',
      headers: IdempotencyHeaders,
      body: CreateTaskBody,
      response: { 200: Ok(TaskDetail), 201: Ok(TaskDetail), ...errors(400, 401, 413, 422, 429) },
    },
  }, async (request, reply) => {
    const { user } = principalOf(request);
    const idempotencyKey = idempotencyKeyHeader(request.headers['idempotency-key']);
    const task = await buildTask(ctx, request.body, { userId: user.id, idempotencyKey, now: ctx.clock.now() });
    await enforceCreationQuotas(ctx, user, [task]);
    const result = await ctx.engine.taskInsert({ task });
    if (!result.created) reply.header('idempotent-replayed', 'true');
    return reply.status(result.created ? 201 : 200).send({ success: true, data: taskDetail(result.task) });
  });

  app.post('/tasks/batch', {
    preValidation: limit,
    bodyLimit: ctx.config.server.batchBodyLimitBytes,
    schema: {
      operationId: 'createTaskBatch',
      tags: ['tasks'],
      summary: 'Create up to 1,000 tasks at once',
      description:
        'All or nothing: one invalid task rejects the batch, naming it (`tasks[3].payload.to`). Each task may carry its own `idempotency_key`. ' +
        'Every task counts against your role\'s quotas (a batch of 1,000 uses 1,000 of tasks_per_minute); a batch that would exceed one is refused whole (429 QUOTA_EXCEEDED).',
      body: BatchBody,
      response: { 201: Ok(BatchResult), ...errors(400, 401, 413, 422, 429) },
    },
  }, async (request, reply) => {
    const { user } = principalOf(request);
    const now = ctx.clock.now();
    const tasks = [];
    for (const [index, item] of request.body.tasks.entries()) {
      const { idempotency_key, ...body } = item;
      tasks.push(await buildTask(ctx, body, { userId: user.id, idempotencyKey: idempotency_key ?? null, now, field: `tasks[${index}]` }));
    }
    await enforceCreationQuotas(ctx, user, tasks, (index) => `tasks[${index}]`);
    const results = await ctx.engine.taskInsertMany({ tasks });
    return reply.status(201).send({
      success: true,
      data: { created: results.filter((r) => r.created).length, tasks: results.map((r) => taskSummary(r.task)) },
    });
  });
}
