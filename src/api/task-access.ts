import { seesAllTasks } from '../auth/roles.ts';
import type { TaskRecord } from '../core/task.ts';
import type { UserRecord } from '../store/engine.ts';
import { notFound } from './api-error.ts';
import type { ApiContext } from './api-context.ts';

/**
 * The task, if the caller may see it: their own, or any for moderators and admins. Anyone else's
 * task answers exactly like a missing one (404), so ids cannot be probed (OWASP API1, BOLA).
 */
export async function visibleTask(ctx: ApiContext, user: UserRecord, id: string): Promise<TaskRecord> {
  const task = await ctx.engine.taskGet({ id });
  if (!task || (!seesAllTasks(user.role) && task.createdBy !== user.id)) throw notFound();
  return task;
}
