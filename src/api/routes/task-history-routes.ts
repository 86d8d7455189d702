import { seesAllTasks } from '../../auth/roles.ts';
import type { ApiContext, App } from '../api-context.ts';
import { principalOf } from '../plugins/authenticate.ts';
import { Ok, errors } from '../schemas/common.ts';
import { HISTORY_RANGES, HistoryQuery, TaskHistoryView } from '../schemas/history-schemas.ts';
import { iso, isoOrNull } from '../views/iso.ts';

/**
 * Charts of finished tasks over 1 hour, 24 hours or 7 days, from the per-minute rollups the
 * maintenance leader stores, and for 7 days (whole-hour buckets) from the hourly rollups it makes of
 * them (issue 16): they survive restarts and cost the same at any history size.
 */
export function taskHistoryRoutes(app: App, ctx: ApiContext): void {
  app.get('/tasks/history', {
    schema: {
      operationId: 'getTaskHistory',
      tags: ['tasks'],
      summary: 'Finished tasks over time: counts, queue wait and run time per bucket',
      description:
        'From per-minute rollups stored in the database (written by the workers\' elected leader), plus the last minutes not yet rolled up. ' +
        'Role user: your own tasks (rollups are kept per owner). Moderators and admins: every task.',
      querystring: HistoryQuery,
      response: { 200: Ok(TaskHistoryView), ...errors(400, 401) },
    },
  }, async (request) => {
    const { user } = principalOf(request);
    const all = seesAllTasks(user.role);
    const range = request.query.range ?? '24h';
    const { spanMs, bucketMs } = HISTORY_RANGES[range];
    // Buckets end at the next bucket boundary, so that the last one is the current (partial) bucket.
    const until = (Math.floor(ctx.clock.nowMs() / bucketMs) + 1) * bucketMs;
    const history = await ctx.engine.taskHistory({
      since: new Date(until - spanMs),
      until: new Date(until),
      bucketMs,
      ...(all ? {} : { createdBy: user.id }),
      ...(request.query.task_type ? { taskType: request.query.task_type } : {}),
    });
    return {
      success: true as const,
      data: {
        scope: all ? ('all' as const) : ('own' as const),
        range,
        bucket_ms: bucketMs,
        rolled_up_through: isoOrNull(history.rolledUpThrough),
        buckets: history.buckets.map((b) => ({
          start: iso(b.start),
          completed: b.completed,
          failed: b.failed,
          cancelled: b.cancelled,
          wait_p50_ms: b.waitP50Ms,
          wait_p95_ms: b.waitP95Ms,
          wait_p99_ms: b.waitP99Ms,
          run_p50_ms: b.runP50Ms,
          run_p95_ms: b.runP95Ms,
          run_p99_ms: b.runP99Ms,
        })),
      },
    };
  });
}
