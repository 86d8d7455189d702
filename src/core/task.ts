import type { RetryStrategy } from './retry-strategy.ts';

/** The lifecycle states of the guide. `failed` is the dead letter. */
export const TASK_STATUSES = ['pending', 'scheduled', 'running', 'retrying', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** States a worker may claim from, once the task is due. */
export const READY_STATUSES = ['pending', 'scheduled', 'retrying'] as const satisfies readonly TaskStatus[];
/** How many tasks wait to be claimed (due or not), from counts by status. */
export function readyCount(counts: Partial<Record<TaskStatus, number>>): number {
  return READY_STATUSES.reduce((sum, status) => sum + (counts[status] ?? 0), 0);
}
/** States a task never leaves on its own; only these may be deleted or pruned. */
export const FINISHED_STATUSES = ['completed', 'failed', 'cancelled'] as const satisfies readonly TaskStatus[];

export const TASK_PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];

/**
 * Priority is stored as a rank so that ORDER BY is right: the starter project ordered the text and so
 * ran critical tasks last. Lower rank runs first.
 */
export const PRIORITY_RANK: Readonly<Record<TaskPriority, number>> = { critical: 0, high: 1, normal: 2, low: 3 };

export function priorityFromRank(rank: number): TaskPriority {
  const priority = TASK_PRIORITIES[rank];
  if (priority === undefined) throw new RangeError(`no priority has rank ${rank}`);
  return priority;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** How an attempt ended. */
export type AttemptOutcome = 'completed' | 'failed' | 'cancelled' | 'lease_expired' | 'released' | 'snoozed';

/** One finished attempt, appended to the task's history when the attempt ends. */
export interface AttemptRecord {
  attempt: number;
  workerId: string | null;
  startedAt: Date | null;
  finishedAt: Date;
  outcome: AttemptOutcome;
  error: string | null;
}

export interface TaskRecord {
  id: string;
  taskType: string;
  payload: JsonValue;
  status: TaskStatus;
  priority: TaskPriority;
  retryStrategy: RetryStrategy;
  maxAttempts: number;
  /** Attempts started so far; the attempt being run while `running`. Never decreases except on release. */
  currentAttempt: number;
  lastError: string | null;
  output: JsonValue | null;
  metadata: JsonObject;
  idempotencyKey: string | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** When the user asked for it to run; null means as soon as possible. */
  scheduledAt: Date | null;
  /** When it is next due: the schedule, or the time of the next retry. */
  runAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  workerId: string | null;
  leaseExpiresAt: Date | null;
  cancelRequestedAt: Date | null;
  /** Times its lease expired and the rescuer took it back. */
  rescueCount: number;
  /** The handler's latest progress report, e.g. `{ percent: 40, message: "..." }`. */
  progress: JsonValue | null;
  attempts: AttemptRecord[];
}

/**
 * A task as a claim hands it to a worker: what the handler and its context need, and what orders it
 * in the worker's queue (priority, due time, id). The rest of the row stays in the database: a claim
 * of hundreds of tasks does not send, parse and keep their history, strategy or timestamps.
 */
export type ClaimedTask = Pick<
  TaskRecord,
  'id' | 'taskType' | 'payload' | 'priority' | 'runAt' | 'currentAttempt' | 'maxAttempts' | 'metadata' | 'idempotencyKey' | 'createdBy' | 'createdAt'
> & {
  /** The circuit breaker it answers to besides its type's (breaker-scope.ts); null for most types. */
  breakerScope: string | null;
  /** Leases of it lost while its handler ran (the rescues counted against max_rescues). */
  rescueCount: number;
  /** Leases of it lost before its handler started (not counted). */
  unstartedLosses: number;
  /** The claim counted this attempt as started at once (it fills a free slot); false for one claimed ahead, whose start the worker writes down. */
  startRecorded: boolean;
  /** Its type has a concurrency limit: when it ends, a slot of that limit frees, worth claiming for at once. */
  limited?: true;
};

/** What identifies one attempt of one running task: every change to a running task is fenced by it. */
export interface TaskLease {
  id: string;
  attempt: number;
  workerId: string;
}
