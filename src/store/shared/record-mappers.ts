import type { BreakerState, BreakerStateName } from '../../core/circuit-breaker.ts';
import type { ScheduleRecord, ScheduleTemplate } from '../../core/schedule.ts';
import type { JsonObject, JsonValue } from '../../core/task.ts';
import type { AccountTokenKind, AccountTokenRecord, SessionRecord, TaskTypeRecord, TypeLimit, TypePause, UserRecord, UserRole, WorkerRecord } from '../engine.ts';
import { orNull, type RowCodec } from './row-codec.ts';

/** Rows of the tables other than `tasks`, timestamps stored as `T`, JSON as `J`, booleans as `B`. */

export interface BreakerRowOf<T> {
  task_type: string;
  /** '' for the type's own breaker (a primary key column cannot be null). */
  scope: string;
  state: BreakerStateName;
  consecutive_failures: number;
  consecutive_successes: number;
  opened_at: T | null;
  reopens_at: T | null;
  updated_at: T;
}

export interface UserRowOf<T, B> {
  id: string;
  username: string;
  email: string;
  password_hash: string;
  role: UserRole;
  is_active: B;
  created_at: T;
  updated_at: T;
  last_login_at: T | null;
}

export interface AccountTokenRowOf<T> {
  token_hash: string;
  kind: string;
  user_id: string | null;
  role: string | null;
  created_by: string | null;
  created_at: T;
  expires_at: T;
  used_at: T | null;
}

export interface SessionRowOf<T> {
  token_hash: string;
  user_id: string;
  created_at: T;
  expires_at: T;
  last_refreshed_at: T | null;
  user_agent: string | null;
}

export interface TaskTypeRowOf<T, J> {
  name: string;
  description: string;
  payload_schema: J | null;
  examples: J;
  timeout_ms: number;
  created_at: T;
  updated_at: T;
  last_seen_at: T;
}

/** `task_types` is a JSON column on SQLite and text[] on PostgreSQL: the codec reads either. */
export interface WorkerRowOf<T, J> {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  running: number;
  task_types: J;
  started_at: T;
  last_heartbeat_at: T;
}

export interface ScheduleRowOf<T, J, B> {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  task_type: string;
  template: J;
  enabled: B;
  next_run_at: T | null;
  last_run_at: T | null;
  last_task_id: string | null;
  last_skipped_at: T | null;
  last_skip_reason: string | null;
  created_by: string | null;
  created_at: T;
  updated_at: T;
}

export interface TypePauseRowOf<T> {
  task_type: string;
  paused_at: T;
  paused_by: string | null;
  reason: string | null;
}

export interface TypeLimitRowOf<T> {
  task_type: string;
  max_running: number;
  updated_at: T;
  updated_by: string | null;
}

/** The record mappers of one engine, field mapping written once over its codec. */
export function recordMappers<T, J, B>(codec: RowCodec<T, J, B>) {
  const time = (value: T) => codec.time(value);
  const optTime = (value: T | null) => orNull(value, time);
  return {
    breaker: (row: BreakerRowOf<T>): BreakerState => ({
      taskType: row.task_type,
      scope: row.scope === '' ? null : row.scope,
      state: row.state,
      consecutiveFailures: row.consecutive_failures,
      consecutiveSuccesses: row.consecutive_successes,
      openedAt: optTime(row.opened_at),
      reopensAt: optTime(row.reopens_at),
      updatedAt: time(row.updated_at),
    }),
    user: (row: UserRowOf<T, B>): UserRecord => ({
      id: row.id,
      username: row.username,
      email: row.email,
      passwordHash: row.password_hash,
      role: row.role,
      isActive: codec.bool(row.is_active),
      createdAt: time(row.created_at),
      updatedAt: time(row.updated_at),
      lastLoginAt: optTime(row.last_login_at),
    }),
    accountToken: (row: AccountTokenRowOf<T>): AccountTokenRecord => ({
      tokenHash: row.token_hash,
      kind: row.kind as AccountTokenKind,
      userId: row.user_id,
      role: row.role as UserRole | null,
      createdBy: row.created_by,
      createdAt: time(row.created_at),
      expiresAt: time(row.expires_at),
      usedAt: optTime(row.used_at),
    }),
    session: (row: SessionRowOf<T>): SessionRecord => ({
      tokenHash: row.token_hash,
      userId: row.user_id,
      createdAt: time(row.created_at),
      expiresAt: time(row.expires_at),
      lastRefreshedAt: optTime(row.last_refreshed_at),
      userAgent: row.user_agent,
    }),
    taskType: (row: TaskTypeRowOf<T, J>): TaskTypeRecord => ({
      name: row.name,
      description: row.description,
      payloadSchema: orNull(row.payload_schema, (v) => codec.json<JsonObject>(v, 'payload_schema')),
      examples: codec.json<JsonValue[]>(row.examples, 'examples'),
      timeoutMs: row.timeout_ms,
      createdAt: time(row.created_at),
      updatedAt: time(row.updated_at),
      lastSeenAt: time(row.last_seen_at),
    }),
    worker: (row: WorkerRowOf<T, J>): WorkerRecord => ({
      id: row.id,
      host: row.host,
      pid: row.pid,
      concurrency: row.concurrency,
      running: row.running,
      taskTypes: codec.json<string[]>(row.task_types, 'task_types'),
      startedAt: time(row.started_at),
      lastHeartbeatAt: time(row.last_heartbeat_at),
    }),
    schedule: (row: ScheduleRowOf<T, J, B>): ScheduleRecord => ({
      id: row.id,
      name: row.name,
      cron: row.cron,
      timezone: row.timezone,
      taskType: row.task_type,
      template: codec.json<ScheduleTemplate>(row.template, 'template'),
      enabled: codec.bool(row.enabled),
      nextRunAt: optTime(row.next_run_at),
      lastRunAt: optTime(row.last_run_at),
      lastTaskId: row.last_task_id,
      lastSkippedAt: optTime(row.last_skipped_at),
      lastSkipReason: row.last_skip_reason,
      createdBy: row.created_by,
      createdAt: time(row.created_at),
      updatedAt: time(row.updated_at),
    }),
    typePause: (row: TypePauseRowOf<T>): TypePause => ({ taskType: row.task_type, pausedAt: time(row.paused_at), pausedBy: row.paused_by, reason: row.reason }),
    typeLimit: (row: TypeLimitRowOf<T>): TypeLimit => ({ taskType: row.task_type, maxRunning: row.max_running, updatedAt: time(row.updated_at), updatedBy: row.updated_by }),
  };
}
