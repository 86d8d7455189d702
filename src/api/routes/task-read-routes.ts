import { seesAllTasks } from '../../auth/roles.ts';
import { TASK_PRIORITIES, TASK_STATUSES } from '../../core/task.ts';
import { typeHandling } from '../../core/type-handling.ts';
import { ApiError } from '../api-error.ts';
import type { ApiContext, App } from '../api-context.ts';
import { csvFilter, dateFilter } from '../list-filters.ts';
import { liveWorkerTypes } from '../live-workers.ts';
import { principalOf } from '../plugins/authenticate.ts';
import { Ok, Page, errors } from '../schemas/common.ts';
import { ListQuery, PageQuery, TaskDetail, TaskIdParams, TaskStatsView, TaskSummary } from '../schemas/task-schemas.ts';
import { visibleTask } from '../task-access.ts';
import { taskStatsView } from '../views/stats-view.ts';
import { taskDetail, taskSummary } from '../views/task-view.ts';

/** Reading tasks: list, one task, stats and the dead letter. */
export function taskReadRoutes(app: App, ctx: ApiContext): void {
  app.get('/tasks', {
    schema: {
      operationId: 'listTasks',
      tags: ['tasks'],
      summary: 'List tasks, newest first',
      description:
        'Users see their own tasks; moderators and admins see all (and may filter by `created_by`). `id_prefix` finds the tasks whose id starts with it. ' +
        'Page with `cursor` = the previous page\'s `next_cursor`.',
      querystring: ListQuery,
      response: { 200: Page(TaskSummary), ...errors(400, 401) },
    },
  }, async (request) => {
    const { user } = principalOf(request);
    const q = request.query;
    if (q.created_by !== undefined && !seesAllTasks(user.role)) throw new ApiError('FORBIDDEN', 'Only moderators and admins may filter by created_by', { field: 'created_by' });
    const limit = q.limit ?? 50;
    const result = await ctx.engine.taskList({
      status: csvFilter(q.status, 'status', TASK_STATUSES),
      taskType: csvFilter(q.task_type, 'task_type'),
      priority: csvFilter(q.priority, 'priority', TASK_PRIORITIES),
      createdAfter: dateFilter(q.created_after, 'created_after'),
      createdBefore: dateFilter(q.created_before, 'created_before'),
      createdBy: seesAllTasks(user.role) ? q.created_by : user.id,
      // Ids are stored in lower case; people paste them in either.
      idPrefix: q.id_prefix?.toLowerCase(),
      limit,
      cursor: q.cursor,
      withTotal: true,
    });
    return { success: true as const, data: result.tasks.map(taskSummary), pagination: { limit, next_cursor: result.nextCursor, total: result.total, total_is_exact: result.totalIsExact } };
  });

  app.get('/tasks/stats', {
    schema: {
      operationId: 'getTaskStats',
      tags: ['tasks'],
      summary: 'Task counts by status, type and priority',
      description:
        'Role user: your own tasks. Moderators and admins: every task. `unhandled_types` names the task types whose tasks wait ' +
        'with no live worker that lists them; `live_workers` says whether any worker runs at all.',
      response: { 200: Ok(TaskStatsView), ...errors(401) },
    },
  }, async (request) => {
    const { user } = principalOf(request);
    const all = seesAllTasks(user.role);
    const [stats, workerTypes] = await Promise.all([ctx.engine.taskStats({ now: ctx.clock.now(), createdBy: all ? undefined : user.id }), liveWorkerTypes(ctx)]);
    return { success: true as const, data: taskStatsView(stats, all ? 'all' : 'own', workerTypes) };
  });

  app.get('/tasks/dead-letter', {
    schema: {
      operationId: 'listDeadLetter',
      tags: ['tasks'],
      summary: 'Failed tasks (the dead letter), newest first',
      querystring: PageQuery,
      response: { 200: Page(TaskSummary), ...errors(400, 401) },
    },
  }, async (request) => {
    const { user } = principalOf(request);
    const limit = request.query.limit ?? 50;
    const result = await ctx.engine.taskList({
      status: ['failed'],
      taskType: csvFilter(request.query.task_type, 'task_type'),
      createdBy: seesAllTasks(user.role) ? undefined : user.id,
      limit,
      cursor: request.query.cursor,
      withTotal: true,
    });
    return { success: true as const, data: result.tasks.map(taskSummary), pagination: { limit, next_cursor: result.nextCursor, total: result.total, total_is_exact: result.totalIsExact } };
  });

  app.get('/tasks/:id', {
    schema: {
      operationId: 'getTask',
      tags: ['tasks'],
      summary: 'One task: payload, output, last error, attempt history, progress',
      description: '`handling` says whether a live worker takes the task\'s type: a waiting task of an `unhandled` type waits until a worker with a handler for it starts.',
      params: TaskIdParams,
      response: { 200: Ok(TaskDetail), ...errors(400, 401, 404) },
    },
  }, async (request) => {
    const [task, workerTypes] = await Promise.all([visibleTask(ctx, principalOf(request).user, request.params.id), liveWorkerTypes(ctx)]);
    const handling = typeHandling(task.taskType, workerTypes);
    return { success: true as const, data: { ...taskDetail(task), handling: { state: handling.state, live_workers: handling.liveWorkers } } };
  });
}
