import { readyCount, type TaskStatus } from './task.ts';

/**
 * Whether a live worker takes a task type:
 * - `handled`: at least one live worker lists the type (a worker claims only the types it lists);
 * - `unhandled`: workers are live, but none lists it (a type inserted by SQL or by another version,
 *   or whose workers all stopped), so its tasks wait until one that has a handler starts;
 * - `no_live_workers`: no worker is live at all (an API running alone, every worker down): every task
 *   waits, and that is one fact about the installation, not a fault of each type or task.
 */
export type TypeHandlingState = 'handled' | 'unhandled' | 'no_live_workers';

export interface TypeHandling {
  state: TypeHandlingState;
  /** Live workers that list the type. */
  liveWorkers: number;
}

/** `liveWorkerTypes`: the task types of each live worker (its heartbeat's list). */
export function typeHandling(taskType: string, liveWorkerTypes: readonly (readonly string[])[]): TypeHandling {
  const liveWorkers = liveWorkerTypes.filter((types) => types.includes(taskType)).length;
  if (liveWorkers > 0) return { state: 'handled', liveWorkers };
  return { state: liveWorkerTypes.length === 0 ? 'no_live_workers' : 'unhandled', liveWorkers: 0 };
}

/**
 * The task types with waiting tasks (pending, scheduled or retrying) that no live worker lists, with
 * how many wait, by name. Empty while no worker is live at all: then nothing runs, and saying so once
 * (`no_live_workers`) beats naming every type.
 */
export function unhandledTypes(
  byType: Readonly<Record<string, Partial<Record<TaskStatus, number>>>>,
  liveWorkerTypes: readonly (readonly string[])[],
): { taskType: string; waiting: number }[] {
  if (liveWorkerTypes.length === 0) return [];
  const handled = new Set(liveWorkerTypes.flat());
  return Object.entries(byType)
    .map(([taskType, counts]) => ({ taskType, waiting: readyCount(counts) }))
    .filter((t) => t.waiting > 0 && !handled.has(t.taskType))
    .sort((a, b) => a.taskType.localeCompare(b.taskType));
}
