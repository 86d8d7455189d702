import type { WorkerRecord } from '../store/engine.ts';
import type { ApiContext } from './api-context.ts';
import { isWorkerLive } from './views/worker-view.ts';

/** Workers whose last heartbeat is within `workers.liveAfterMs`; the rest may be dead or partitioned. */
export function isLive(ctx: ApiContext, worker: WorkerRecord, now: Date): boolean {
  return isWorkerLive(worker, now, ctx.config.workers.liveAfterMs);
}

export async function liveWorkers(ctx: ApiContext): Promise<WorkerRecord[]> {
  const now = ctx.clock.now();
  return (await ctx.engine.workerList()).filter((w) => isLive(ctx, w, now));
}

/** The task types of each live worker, for core/type-handling.ts. */
export async function liveWorkerTypes(ctx: ApiContext): Promise<string[][]> {
  return (await liveWorkers(ctx)).map((w) => w.taskTypes);
}
