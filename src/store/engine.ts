import type { BreakerConfig, BreakerState } from '../core/circuit-breaker.ts';
import type { NewTask } from '../core/new-task.ts';
import type { OwnerUsage } from '../core/quota.ts';
import type { NewSchedule, ScheduleChanges, ScheduleRecord } from '../core/schedule.ts';
import type { StorageStats } from '../core/storage-health.ts';
import type { ClaimedTask, JsonValue, TaskLease, TaskRecord } from '../core/task.ts';
import type {
  EngineTransaction,
  EngineCapabilities,
  MigrationReport,
  MigrationStatus,
  TaskInsertResult,
  HeartbeatResult,
  TaskFailResult,
  TaskListParams,
  TaskListResult,
  TaskStats,
  TaskHistory,
  TaskHistoryParams,
  RescueResult,
  TaskTypeInfo,
  TypePause,
  TypeLimit,
  TaskTypeRecord,
  WorkerInfo,
  WorkerRecord,
  UserRole,
  NewUser,
  UserRecord,
  SessionRecord,
  AccountTokenKind,
  AccountTokenRecord,
} from './engine-records.ts';

/**
 * What callers hold: an engine behind the dispatch layer (store/dispatch/dispatch-engine.ts), which
 * validates every call's input the same way for both engines, times it, and reports it to whoever
 * observes the calls (the API's /metrics), logging slow and failed ones. openSqliteEngine,
 * openPostgresEngine and createEngine return one; no caller sees an EngineDriver.
 */
export interface Engine extends EngineDriver {
  /** Calls `listener` after every engine call (not `listen`, `close`); returns how to stop. */
  observeCalls(listener: (call: EngineCall) => void): () => void;
}

/** One finished engine call, as the dispatch layer reports it. */
export interface EngineCall {
  method: string;
  durationMs: number;
  /** The error's code (`CONVEYOR_DATABASE_UNAVAILABLE`, ...) when the call failed; null when it succeeded. */
  errorCode: string | null;
}

/**
 * The storage seam one engine implements: queue semantics, designed once for SQLite and PostgreSQL.
 * Methods are named noun-first and take one params object. `now` always comes from the caller's Clock,
 * never from the database, so tests control time. Engines throw ConveyorError (see core/errors.ts),
 * never driver errors. Input is validated before it gets here (the dispatch layer), and the lifecycle's
 * decisions are made by core/lifecycle.ts: an engine persists decided, fenced transitions.
 */
export interface EngineDriver
  extends StorageLifecycle,
    TaskStore,
    TaskAdminStore,
    UpkeepStore,
    ControlStore,
    SchedulingStore,
    RegistryStore,
    AccountStore,
    QuotaStore,
    NotificationSource {}

/** The database itself: which engine, what it can do, its schema, health and closing. */
export interface StorageLifecycle {
  readonly kind: 'sqlite' | 'postgres';
  readonly capabilities: EngineCapabilities;

  /** Applies pending migrations; safe when several processes call it at once. */
  migrate(): Promise<MigrationReport>;
  /** Which migrations the database has and which it lacks, without changing anything. */
  migrationStatus(): Promise<MigrationStatus>;
  close(): Promise<void>;
  /** Cheap round trip, for health checks. */
  ping(): Promise<void>;
}

/** Producers and workers: inserts, claims, leases, and the ends of attempts (each fenced by its lease). */
export interface TaskStore {
  // --- producers
  /** Inserts one task; with an idempotency key already used, returns that task and `created: false`. */
  taskInsert(p: { task: NewTask; tx?: EngineTransaction | null }): Promise<TaskInsertResult>;
  /** Inserts many in one transaction; results are in input order. */
  taskInsertMany(p: { tasks: NewTask[]; tx?: EngineTransaction | null }): Promise<TaskInsertResult[]>;

  // --- workers (every change to a running task is fenced by its lease)
  /**
   * Claims up to `limit` due tasks of the given types: critical > high > normal > low, then due time
   * (`run_at`), then creation. Skips types whose breaker is open, tasks whose scope's breaker is open
   * (a webhook's host, see core/breaker-scope.ts), and types that are paused, and never claims
   * past a type's concurrency limit (claimed tasks count as running; see typeLimitSet). Each claimed task becomes `running`,
   * its attempt goes up by one, and it is leased to `workerId` until `leaseExpiresAt`.
   *
   * `startNow` (default: all of them) says how many of the claimed tasks, in claim order, go to free
   * slots at once: those count as started (attempt_started); the rest, claimed ahead, count as started
   * only once the worker records their start (taskStartRecord). A task rescued or lost unstarted before
   * never counts as started at claim (core/lifecycle.ts decideStart: its start is recorded first).
   *
   * `fairShare` (0 < x < 1; absent or 1: off) shares the slots between owners (core/fair-share.ts):
   * when due tasks of more than one owner wait, claims alternate between the waiting owners at each
   * priority, and an owner holding more than `fairShare` of the running tasks
   * (every worker counted, claimed ones too) comes after every owner under it. Nothing is held back.
   */
  taskClaim(p: { workerId: string; taskTypes: readonly string[]; limit: number; now: Date; leaseMs: number; startNow?: number; fairShare?: number }): Promise<ClaimedTask[]>;
  /**
   * Records that the handlers of these attempts started (at `startedAt`, which becomes the row's
   * `started_at`): a lease lost from now on counts against max_rescues. Fenced per lease; answers the
   * ids recorded now (not those lost, nor those recorded already).
   */
  taskStartRecord(p: { workerId: string; starts: readonly { lease: TaskLease; startedAt: Date }[] }): Promise<string[]>;
  /**
   * Extends the leases this worker still holds; reports which it lost and which were asked to cancel.
   * `check` lists more leases to look at without extending them (ones still valid for long): they
   * are reported lost or cancel-requested like the others, and are never in `renewed`.
   */
  taskHeartbeat(p: { workerId: string; leases: readonly TaskLease[]; now: Date; leaseMs: number; check?: readonly TaskLease[] }): Promise<HeartbeatResult>;
  /** Stores the output and marks the attempt completed. False when the lease no longer holds. */
  taskComplete(p: { lease: TaskLease; output: JsonValue | null; now: Date }): Promise<boolean>;
  /**
   * Records a failed attempt. The task is retried by its strategy (status `retrying`, due at the
   * strategy's time, jitter drawn from `random`), or goes to the dead letter (`failed`) when its attempts
   * are spent or `permanent` is set, or becomes `cancelled` if cancellation was requested meanwhile.
   * `minDelayMs` holds the retry back at least that long (the handler's RetryableTaskError.retryAfterMs).
   */
  taskFail(p: { lease: TaskLease; error: string; permanent?: boolean; now: Date; random?: () => number; minDelayMs?: number }): Promise<TaskFailResult>;
  /** Ends a running attempt as cancelled (its handler stopped after a cancel request). */
  taskCancelRunning(p: { lease: TaskLease; now: Date; reason?: string }): Promise<boolean>;
  /**
   * Hands a running task back without spending its attempt: due at once (a graceful shutdown), or at
   * `until` (the handler snoozed it: SnoozeTaskError), recorded in its history as `released` or
   * `snoozed`. A task whose cancellation was requested meanwhile ends `cancelled`.
   */
  taskRelease(p: { lease: TaskLease; now: Date; until?: Date }): Promise<boolean>;
  /**
   * Hands back tasks this worker claimed but never started (a prefetch it will not run: shutdown, an
   * open breaker, a cancel request): as if they had not been claimed. The attempt number is given
   * back, no attempt is recorded (none ran), and each keeps its due time and so its place in line;
   * a task whose cancellation was requested meanwhile ends `cancelled`. Fenced per lease like every
   * change to a running task; leases no longer held are left out of the answer.
   */
  taskUnclaim(p: { workerId: string; leases: readonly TaskLease[]; now: Date }): Promise<{ released: string[]; cancelled: string[] }>;
  /**
   * When the first waiting task of these types that is not yet due (scheduled, or retrying later)
   * comes due, after `now`; null when none waits. An idle worker sleeps until then instead of polling.
   */
  taskNextDueAt(p: { taskTypes: readonly string[]; now: Date }): Promise<Date | null>;
  /** Stores a running task's progress report, e.g. `{ percent: 40 }`. */
  taskProgress(p: { lease: TaskLease; progress: JsonValue; now: Date }): Promise<boolean>;
}

/** Operators' reads and changes of tasks, and the counts. */
export interface TaskAdminStore {
  taskGet(p: { id: string }): Promise<TaskRecord | null>;
  taskList(p: TaskListParams): Promise<TaskListResult>;
  /**
   * pending, scheduled, retrying: cancelled at once. running: marked cancel-requested; the worker
   * stops the handler. Anything finished: `not_cancellable`.
   */
  taskCancel(p: { id: string; now: Date }): Promise<{ outcome: 'cancelled' | 'cancel_requested' | 'not_cancellable' | 'not_found'; task: TaskRecord | null }>;
  /**
   * A failed or cancelled task runs again, due now. Attempt numbers keep counting up (they fence
   * workers); a task whose attempts are spent gets one more, as River and Oban do.
   */
  taskRetry(p: { id: string; now: Date }): Promise<{ outcome: 'retried' | 'not_retryable' | 'not_found'; task: TaskRecord | null }>;
  /** Deletes a finished task (completed, failed, cancelled). */
  taskDelete(p: { id: string }): Promise<'deleted' | 'not_finished' | 'not_found'>;
  taskStats(p: { now: Date; createdBy?: string }): Promise<TaskStats>;
  /**
   * Finished tasks per bucket over [since, until): from the per-minute rollups, and for the minutes
   * not yet rolled up, from the tasks themselves (a few minutes of the finished index).
   */
  taskHistory(p: TaskHistoryParams): Promise<TaskHistory>;
}

/** The leader's upkeep: rescues, pruning, leadership, the database's health. */
export interface UpkeepStore {
  /**
   * Takes back running tasks whose lease expired before `now`, as core/lifecycle.ts decideRescue
   * decides. An attempt that started (attempt_started) counts a rescue and is recorded in the history
   * as `lease_expired`: to `retrying` (due now), or to the dead letter once `rescue_count` reaches
   * `maxRescues` or the attempts are spent. An attempt that never started (claimed ahead) goes back as
   * if never claimed (its attempt number given back, `unstarted_losses` + 1), listed in `retried`.
   * A task whose cancellation was requested becomes `cancelled`.
   */
  taskRescueExpired(p: { now: Date; maxRescues: number; limit: number }): Promise<RescueResult>;
  /**
   * Rolls finished tasks up per minute, type and owner (task_rollups), from where the last run
   * stopped up to the last settled minute, at most an hour of minutes per call; then, in the same
   * transaction, makes the minutes of each hour they complete into that hour (task_rollups_hourly,
   * at most a day of hours per call: an upgraded database's earlier minutes too). The leader calls it
   * each round. `minutes` and `hours` are how many it rolled up (0 and 0: nothing due).
   */
  taskRollup(p: { now: Date }): Promise<{ minutes: number; hours: number; rolledThrough: Date | null }>;
  /**
   * Deletes finished tasks that finished before `finishedBefore`, at most `limit`, oldest first, in
   * one short transaction; how many it deleted. Tasks the rollup counted leave task_counts with them.
   */
  taskPrune(p: { finishedBefore: Date; limit: number }): Promise<number>;
  /**
   * After a large prune: makes the space of the deleted tasks reusable by the next inserts, so the
   * table's size stays flat. PostgreSQL: a plain VACUUM (ANALYZE) of tasks on its own connection
   * (blocks no reader or writer; closing the engine cancels it); true. SQLite: nothing to do (deleted
   * pages go to the file's freelist and are reused by the next writes); false.
   */
  taskVacuum(): Promise<boolean>;
  /** Takes or keeps a named leadership for `ttlMs`; true when `leaderId` holds it afterwards. */
  leaderAttemptElect(p: { name: string; leaderId: string; now: Date; ttlMs: number }): Promise<boolean>;
  leaderResign(p: { name: string; leaderId: string }): Promise<void>;

  /**
   * What keeps the database healthy under a queue's churn: dead rows per table and their last vacuum,
   * the longest-open transaction (it keeps PostgreSQL from cleaning any of them up), the SQLite WAL's
   * size. For the leader's warnings, doctor and metrics; see core/storage-health.ts for the rules.
   */
  storageStats(p: { now: Date }): Promise<StorageStats>;
}

/** Controls that hold task types back: circuit breakers, pauses and concurrency limits. */
export interface ControlStore {
  // --- circuit breakers: one per type (scope null or left out), or per type and scope (a webhook's host)
  breakerGet(p: { taskType: string; scope?: string | null }): Promise<BreakerState | null>;
  /** Every breaker row, type-wide and scoped, by type then scope. */
  breakerList(): Promise<BreakerState[]>;
  /** Records one outcome atomically (all workers share the breaker) and returns the new state. */
  breakerRecord(p: { taskType: string; scope?: string | null; outcome: 'success' | 'failure'; now: Date; config: BreakerConfig }): Promise<BreakerState>;
  /** Closes a breaker by hand (an admin's reset). */
  breakerReset(p: { taskType: string; scope?: string | null; now: Date }): Promise<BreakerState>;

  // --- paused task types ------------------------------------------------------------------------
  /**
   * Pauses a task type: claims skip it (its tasks wait, spending nothing) until it is resumed. Tasks
   * already claimed finish. Pausing a paused type keeps its first time and author.
   */
  typePause(p: { taskType: string; now: Date; pausedBy: string | null; reason: string | null }): Promise<TypePause>;
  /** Resumes a paused type and wakes idle workers; false when it was not paused. */
  typeResume(p: { taskType: string }): Promise<boolean>;
  typePauseList(): Promise<TypePause[]>;

  // --- concurrency limits per task type -----------------------------------------------------------
  /**
   * At most `maxRunning` tasks of the type claimed at once, across every worker (null removes the
   * limit). Claims apply a new limit within a second (LIMITS_REFRESH_MS).
   */
  typeLimitSet(p: { taskType: string; maxRunning: number | null; now: Date; by: string | null }): Promise<TypeLimit | null>;
  typeLimitList(): Promise<TypeLimit[]>;
  /** Running (claimed) tasks per task type: what counts against each limit. Reads only running tasks. */
  typeRunningCounts(): Promise<Record<string, number>>;
}

/** Recurring schedules. */
export interface SchedulingStore {
  /** Creates a schedule; CONFLICT when its owner (or, for `createdBy` null, the system) has one of that name. */
  scheduleInsert(p: { schedule: NewSchedule }): Promise<ScheduleRecord>;
  scheduleGet(p: { id: string }): Promise<ScheduleRecord | null>;
  /** Ordered by name; one owner's only with `createdBy`. */
  scheduleList(p: { createdBy?: string }): Promise<ScheduleRecord[]>;
  /** Writes the given columns (see reviseSchedule); CONFLICT on a name taken. Null when it does not exist. */
  scheduleUpdate(p: { id: string; changes: ScheduleChanges; now: Date }): Promise<ScheduleRecord | null>;
  /** Deletes a schedule; the tasks it created stay. */
  scheduleDelete(p: { id: string }): Promise<boolean>;
  /**
   * The enabled schedules due at `now` (a deactivated owner's wait), earliest first, at most `limit`;
   * and when to look again: when the first one not yet due fires, `now` if more than `limit` are due,
   * null if none waits. One statement.
   */
  scheduleDue(p: { now: Date; limit: number }): Promise<{ due: ScheduleRecord[]; nextRunAt: Date | null }>;
  /**
   * One firing, in one transaction: moves the schedule from `dueAt` to `nextRunAt`, records it as the
   * last run, and inserts its task (by its idempotency key, at most once). Fenced like a lease: only
   * if the schedule is still enabled and still due at `dueAt`, so two schedulers never fire it twice.
   * Null when the fence did not hold.
   */
  scheduleFire(p: { id: string; dueAt: Date; nextRunAt: Date | null; task: NewTask; now: Date }): Promise<TaskRecord | null>;
  /**
   * A firing skipped (its owner is over a quota): moves the schedule from `dueAt` to `nextRunAt` as a
   * firing would, inserts nothing, and records when and why on the schedule. Fenced as scheduleFire;
   * false when the fence did not hold.
   */
  scheduleSkip(p: { id: string; dueAt: Date; nextRunAt: Date | null; reason: string; now: Date }): Promise<boolean>;
}

/** What quotas count, per owner, from the database (so every API server and worker counts the same). */
export interface QuotaStore {
  /**
   * The owner's tasks created at or after `since` (and when the oldest of them was), its waiting tasks
   * (pending, scheduled, retrying) and the payload bytes of all its stored tasks. Index-backed: reads
   * the owner's recent and waiting tasks' index entries and one counter row.
   */
  ownerUsage(p: { ownerId: string; since: Date }): Promise<OwnerUsage>;
  /**
   * Counts email recipients against a cap, all or nothing and atomically across processes: each entry
   * (a task) is counted once whoever counts it first (the API at creation, the handler at sending),
   * so a retried send is not counted again. When the recipients counted since `since` plus the
   * entries not yet counted exceed `cap`, nothing is written and `counted` is false. `used` is what
   * was counted since `since` before this call.
   */
  emailRecipientsCount(p: { ownerId: string; entries: readonly { taskId: string; recipients: number }[]; since: Date; cap: number; now: Date }): Promise<{ counted: boolean; used: number }>;
}

/** Registered task types and live workers. */
export interface RegistryStore {
  typeRegister(p: { type: TaskTypeInfo; now: Date }): Promise<void>;
  typeList(): Promise<TaskTypeRecord[]>;
  workerHeartbeat(p: { worker: WorkerInfo; now: Date }): Promise<void>;
  workerList(): Promise<WorkerRecord[]>;
  workerRemove(p: { id: string }): Promise<void>;
}

/** Users and sessions (for api/ and auth/). */
export interface AccountStore {
  userInsert(p: { user: NewUser }): Promise<UserRecord>;
  userGet(p: { id: string }): Promise<UserRecord | null>;
  /** Finds a user by username or email (case-insensitive). */
  userFind(p: { login: string }): Promise<UserRecord | null>;
  userList(p: { limit: number; offset: number }): Promise<UserRecord[]>;
  userUpdate(p: { id: string; changes: Partial<Pick<UserRecord, 'role' | 'isActive' | 'passwordHash' | 'lastLoginAt'>>; now: Date }): Promise<UserRecord | null>;
  userCount(p: { role?: UserRole }): Promise<number>;
  sessionInsert(p: { session: SessionRecord }): Promise<void>;
  /**
   * The session for a token hash, if it exists and has not expired at `now`, with its user: one
   * lookup, because every authenticated request needs both.
   */
  sessionGet(p: { tokenHash: string; now: Date }): Promise<{ session: SessionRecord; user: UserRecord } | null>;
  sessionUpdate(p: { tokenHash: string; expiresAt: Date; now: Date }): Promise<boolean>;
  sessionDelete(p: { tokenHash: string }): Promise<boolean>;
  /** Ends every session of a user but `keepTokenHash` (when given); returns how many ended. */
  sessionDeleteForUser(p: { userId: string; keepTokenHash?: string }): Promise<number>;
  /**
   * Of the given token hashes, those whose session exists, has not expired at `now` and belongs to an
   * active user, each with that user's role: one query for every open event stream, so a logout,
   * deactivation, expiry or role change anywhere reaches them within a poll.
   */
  sessionLiveRoles(p: { tokenHashes: string[]; now: Date }): Promise<{ tokenHash: string; role: UserRole }[]>;
  sessionPruneExpired(p: { now: Date }): Promise<number>;
  /** Stores a one-time account token (an invitation or a password reset). */
  accountTokenInsert(p: { token: AccountTokenRecord }): Promise<void>;
  /** An unused, unexpired token of this kind; null otherwise. Reads only (see accountTokenUse). */
  accountTokenGet(p: { tokenHash: string; kind: AccountTokenKind; now: Date }): Promise<AccountTokenRecord | null>;
  /**
   * Marks an unused, unexpired token used, in one fenced write, and returns it; null when it was
   * unknown, expired or already used (so two callers racing with one token: exactly one wins).
   */
  accountTokenUse(p: { tokenHash: string; kind: AccountTokenKind; now: Date }): Promise<AccountTokenRecord | null>;
  /** Makes a used token usable again (the action it was used for failed); returns whether it was. */
  accountTokenRelease(p: { tokenHash: string }): Promise<boolean>;
  /** The unused, unexpired tokens of this kind, newest first, at most `limit`. */
  accountTokenList(p: { kind: AccountTokenKind; now: Date; limit: number }): Promise<AccountTokenRecord[]>;
  /** Deletes an unused, unexpired token of this kind, so that it can never be used; returns whether there was one. */
  accountTokenRevoke(p: { tokenHash: string; kind: AccountTokenKind; now: Date }): Promise<boolean>;
  /** Deletes tokens that expired before `now`; returns how many. */
  accountTokenPruneExpired(p: { now: Date }): Promise<number>;
}

/** Wake-ups across processes. */
export interface NotificationSource {
  /**
   * Calls `onInsert` soon after tasks become due at once in any process sharing the database
   * (LISTEN/NOTIFY on PostgreSQL, a watched signal file on SQLite): inserted, retried by hand,
   * released, unclaimed, or rescued. A hint only: workers still poll as a fallback.
   */
  listen(p: { onInsert: (taskType: string | null) => void }): Promise<{ close(): Promise<void> }>;
  /**
   * Calls `onChange` soon after any process sharing the database said that what a dashboard shows
   * changed (changeNotify): the live event hub refreshes on it instead of polling. A hint only, on its
   * own channel so that it never wakes workers; also called once after a lost connection is back.
   */
  changeListen(p: { onChange: () => void }): Promise<{ close(): Promise<void> }>;
  /**
   * Tells every changeListen subscriber that tasks, workers or controls changed: one small statement
   * (PostgreSQL NOTIFY) or a signal-file write (SQLite), outside any task's transaction. The dispatch
   * layer sends it, at most once a second per process, after calls that changed something.
   */
  changeNotify(p?: Record<string, never>): Promise<void>;
}

export type { StorageStats };
export type {
  EngineTransaction,
  PgTransactionClient,
  SqliteTransactionDatabase,
  EngineCapabilities,
  MigrationReport,
  MigrationStatus,
  TaskInsertResult,
  HeartbeatResult,
  TaskFailResult,
  TaskListParams,
  TaskListResult,
  TaskStats,
  TaskHistory,
  TaskHistoryBucket,
  TaskHistoryParams,
  RescueResult,
  TaskTypeInfo,
  TypePause,
  TypeLimit,
  TaskTypeRecord,
  WorkerInfo,
  WorkerRecord,
  UserRole,
  NewUser,
  UserRecord,
  SessionRecord,
  AccountTokenKind,
  AccountTokenRecord,
} from './engine-records.ts';
export { USER_ROLES } from './engine-records.ts';
