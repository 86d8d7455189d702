import { ApiError } from '../api-error.ts';
import type { ApiContext, App } from '../api-context.ts';
import { principalOf } from '../plugins/authenticate.ts';
import { Ok, errors } from '../schemas/common.ts';
import { DeleteResult, TaskDetail, TaskIdParams } from '../schemas/task-schemas.ts';
import { visibleTask } from '../task-access.ts';
import { taskDetail } from '../views/task-view.ts';

/** Acting on one task: cancel, retry, delete. Others' tasks answer 404 to role user. */
export function taskActionRoutes(app: App, ctx: ApiContext): void {
  app.post('/tasks/:id/cancel', {
    schema: {
      operationId: 'cancelTask',
      tags: ['tasks'],
      summary: 'Cancel a task',
      description: 'A waiting task is cancelled at once (200). A running task is asked to stop (202; its worker aborts the handler). A finished task answers 409.',
      params: TaskIdParams,
      response: { 200: Ok(TaskDetail), 202: Ok(TaskDetail), ...errors(401, 404, 409) },
    },
  }, async (request, reply) => {
    const task = await visibleTask(ctx, principalOf(request).user, request.params.id);
    const result = await ctx.engine.taskCancel({ id: task.id, now: ctx.clock.now() });
    switch (result.outcome) {
      case 'cancelled':
      case 'cancel_requested':
        return reply.status(result.outcome === 'cancelled' ? 200 : 202).send({ success: true, data: taskDetail(result.task ?? task) });
      case 'not_cancellable':
        throw new ApiError('INVALID_STATE', `The task is already ${result.task?.status ?? task.status} and cannot be cancelled`, { details: { status: result.task?.status ?? task.status } });
      case 'not_found':
        throw new ApiError('NOT_FOUND', 'Task not found');
    }
  });

  app.post('/tasks/:id/retry', {
    schema: {
      operationId: 'retryTask',
      tags: ['tasks'],
      summary: 'Run a failed or cancelled task again',
      description: 'The task becomes pending, due now; its attempt count keeps counting up. Any other status answers 409.',
      params: TaskIdParams,
      response: { 200: Ok(TaskDetail), ...errors(401, 404, 409) },
    },
  }, async (request) => {
    const task = await visibleTask(ctx, principalOf(request).user, request.params.id);
    const result = await ctx.engine.taskRetry({ id: task.id, now: ctx.clock.now() });
    if (result.outcome === 'retried') return { success: true as const, data: taskDetail(result.task ?? task) };
    if (result.outcome === 'not_found') throw new ApiError('NOT_FOUND', 'Task not found');
    const status = result.task?.status ?? task.status;
    throw new ApiError('INVALID_STATE', `Only failed or cancelled tasks can be retried; this one is ${status}`, { details: { status } });
  });

  app.delete('/tasks/:id', {
    schema: {
      operationId: 'deleteTask',
      tags: ['tasks'],
      summary: 'Delete a finished task (completed, failed or cancelled)',
      params: TaskIdParams,
      response: { 200: Ok(DeleteResult), ...errors(401, 404, 409) },
    },
  }, async (request) => {
    const task = await visibleTask(ctx, principalOf(request).user, request.params.id);
    const outcome = await ctx.engine.taskDelete({ id: task.id });
    if (outcome === 'deleted') return { success: true as const, data: { id: task.id, deleted: true as const } };
    if (outcome === 'not_found') throw new ApiError('NOT_FOUND', 'Task not found');
    throw new ApiError('INVALID_STATE', `Only finished tasks can be deleted; this one is ${task.status} (cancel it first)`, { details: { status: task.status } });
  });
}
