import type { JsonObject, JsonValue, TaskPriority, TaskRecord, TaskStatus } from '../core/task.ts';

/** The records and results of the engine's methods (see engine.ts). */

/**
 * The application's own transaction, for an insert that commits or rolls back with it: on PostgreSQL
 * a pg client (pg.Client or a pooled client) inside BEGIN; on SQLite the application's better-sqlite3
 * Database (inside `db.transaction(...)` or not). Described by shape, so this file needs no driver.
 */
export type EngineTransaction = PgTransactionClient | SqliteTransactionDatabase;

export interface PgTransactionClient {
  query(...args: never[]): unknown;
}

export interface SqliteTransactionDatabase {
  prepare(...args: never[]): unknown;
  transaction(...args: never[]): unknown;
  readonly inTransaction: boolean;
}

export interface EngineCapabilities {
  /** Claims never block on each other (PostgreSQL SKIP LOCKED); SQLite serialises writers instead. */
  skipLocked: boolean;
  /** Insert notifications cross machines (PostgreSQL) rather than one machine's processes (SQLite). */
  listenNotify: boolean;
  /** `tx` on insert can be the application's own transaction (a pg client, a better-sqlite3 Database). */
  transactionalInsert: boolean;
}

export interface MigrationReport {
  applied: { version: number; name: string }[];
  current: number;
}

export interface MigrationStatus {
  /** The newest version applied; 0 for a database never migrated. */
  current: number;
  /** The newest version this Conveyor knows. */
  latest: number;
  /** Known migrations not applied yet, in order. */
  pending: { version: number; name: string }[];
}

export interface TaskInsertResult {
  task: TaskRecord;
  /** False when the idempotency key matched an existing task, which is returned instead. */
  created: boolean;
}

export interface HeartbeatResult {
  /** Ids whose lease was extended. */
  renewed: string[];
  /** Ids (of `leases` and `check`) this worker no longer holds (rescued, finished elsewhere): their handlers must stop. */
  lost: string[];
  /** Held ids (renewed or checked) whose cancellation was requested: their handlers must be aborted. */
  cancelRequested: string[];
}

export type TaskFailResult =
  | { applied: false }
  | { applied: true; status: 'retrying'; runAt: Date }
  | { applied: true; status: 'failed' | 'cancelled' };

export interface TaskListParams {
  status?: readonly TaskStatus[];
  taskType?: readonly string[];
  priority?: readonly TaskPriority[];
  createdBy?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  /** Text matched against the start of the id. */
  idPrefix?: string;
  /** 1..1000 */
  limit: number;
  /** From a previous result's `nextCursor`. Newest first. */
  cursor?: string;
  /** Also count the matches, up to LIST_TOTAL_CAP (a second query that reads at most that many index entries). */
  withTotal?: boolean;
}

export interface TaskListResult {
  tasks: TaskRecord[];
  nextCursor: string | null;
  /** The number of matches when withTotal was asked for; with totalIsExact false, a lower bound (LIST_TOTAL_CAP): there are more. */
  total: number | null;
  totalIsExact: boolean;
}

export interface TaskStats {
  total: number;
  byStatus: Record<TaskStatus, number>;
  byType: Record<string, Partial<Record<TaskStatus, number>>>;
  byPriority: Record<TaskPriority, Partial<Record<TaskStatus, number>>>;
  /** Age in ms of the oldest task that is due and waiting for a worker (not paused); null when none waits. */
  oldestReadyAgeMs: number | null;
  completedLastMinute: number;
  completedLastHour: number;
  failedLastMinute: number;
  failedLastHour: number;
}

/** One bucket of a chart of finished tasks (GET /tasks/history). Percentiles in ms; null when no task in it had started. */
export interface TaskHistoryBucket {
  start: Date;
  completed: number;
  failed: number;
  cancelled: number;
  waitP50Ms: number | null;
  waitP95Ms: number | null;
  waitP99Ms: number | null;
  runP50Ms: number | null;
  runP95Ms: number | null;
  runP99Ms: number | null;
}

export interface TaskHistory {
  buckets: TaskHistoryBucket[];
  /** Minutes before this come from the stored rollups; the rest was counted from the tasks just now. Null before the first rollup. */
  rolledUpThrough: Date | null;
}

export interface TaskHistoryParams {
  since: Date;
  until: Date;
  /** A whole number of minutes, in ms. */
  bucketMs: number;
  /** Only this user's tasks (the role user's view). */
  createdBy?: string;
  taskType?: string;
}

export interface RescueResult {
  retried: string[];
  deadLettered: string[];
  cancelled: string[];
}

export interface TaskTypeInfo {
  name: string;
  description: string;
  payloadSchema: JsonObject | null;
  /** Example payloads, shown by the dashboard and docs. */
  examples: JsonValue[];
  timeoutMs: number;
}

export interface TypePause {
  taskType: string;
  pausedAt: Date;
  /** The user who paused it; null from the CLI or the library. */
  pausedBy: string | null;
  reason: string | null;
}

export interface TypeLimit {
  taskType: string;
  maxRunning: number;
  updatedAt: Date;
  /** Who set it; null from the CLI or the library. */
  updatedBy: string | null;
}

export interface TaskTypeRecord extends TaskTypeInfo {
  createdAt: Date;
  updatedAt: Date;
  /** The last time a worker that handles it sent a heartbeat. */
  lastSeenAt: Date;
}

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  running: number;
  taskTypes: string[];
  startedAt: Date;
}

export interface WorkerRecord extends WorkerInfo {
  lastHeartbeatAt: Date;
}

export type UserRole = 'user' | 'moderator' | 'admin';
export const USER_ROLES: readonly UserRole[] = ['user', 'moderator', 'admin'];

export interface NewUser {
  id: string;
  username: string;
  email: string;
  passwordHash: string;
  role: UserRole;
  createdAt: Date;
}

export interface UserRecord extends NewUser {
  isActive: boolean;
  updatedAt: Date;
  lastLoginAt: Date | null;
}

/** What a one-time account token is for. */
export type AccountTokenKind = 'invitation' | 'password_reset';

/**
 * A one-time account token: an invitation to register (with the role it grants) or an admin-issued
 * password reset (for `userId`). Only the token's SHA-256 is stored; `usedAt` makes it single-use.
 */
export interface AccountTokenRecord {
  tokenHash: string;
  kind: AccountTokenKind;
  /** The account a password reset is for; null for an invitation. */
  userId: string | null;
  /** The role an invitation grants; null for a password reset. */
  role: UserRole | null;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

export interface SessionRecord {
  /** SHA-256 of the bearer token, hex; the token itself is never stored. */
  tokenHash: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  lastRefreshedAt: Date | null;
  userAgent: string | null;
}
