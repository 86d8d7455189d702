import type { BreakerState, BreakerStateName } from '../../core/circuit-breaker.ts';
import type { ScheduleRecord, ScheduleTemplate } from '../../core/schedule.ts';
import type { JsonObject, JsonValue } from '../../core/task.ts';
import type { SessionRecord, TaskTypeRecord, TypeLimit, TypePause, UserRecord, UserRole, WorkerRecord } from '../engine.ts';

/** Row shapes of the smaller tables, and their mapping to the engine's records. */

export interface BreakerRow {
  task_type: string;
  state: BreakerStateName;
  consecutive_failures: number;
  consecutive_successes: number;
  opened_at: Date | null;
  reopens_at: Date | null;
  updated_at: Date;
}

export function breakerFromRow(row: BreakerRow): BreakerState {
  return {
    taskType: row.task_type,
    state: row.state,
    consecutiveFailures: row.consecutive_failures,
    consecutiveSuccesses: row.consecutive_successes,
    openedAt: row.opened_at,
    reopensAt: row.reopens_at,
    updatedAt: row.updated_at,
  };
}

export interface UserRow {
  id: string;
  username: string;
  email: string;
  password_hash: string;
  role: UserRole;
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
  last_login_at: Date | null;
}

export function userFromRow(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    passwordHash: row.password_hash,
    role: row.role,
    isActive: row.is_active,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastLoginAt: row.last_login_at,
  };
}

export interface SessionRow {
  token_hash: string;
  user_id: string;
  created_at: Date;
  expires_at: Date;
  last_refreshed_at: Date | null;
  user_agent: string | null;
}

/** A user's columns as sessionGet reads them beside the session's (`u_` + column). */
export type PrefixedUserRow = { [K in keyof UserRow as `u_${K}`]: UserRow[K] };

export function userFromPrefixedRow(row: PrefixedUserRow): UserRecord {
  return userFromRow({
    id: row.u_id,
    username: row.u_username,
    email: row.u_email,
    password_hash: row.u_password_hash,
    role: row.u_role,
    is_active: row.u_is_active,
    created_at: row.u_created_at,
    updated_at: row.u_updated_at,
    last_login_at: row.u_last_login_at,
  });
}

export function sessionFromRow(row: SessionRow): SessionRecord {
  return {
    tokenHash: row.token_hash,
    userId: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastRefreshedAt: row.last_refreshed_at,
    userAgent: row.user_agent,
  };
}

export interface TaskTypeRow {
  name: string;
  description: string;
  payload_schema: JsonObject | null;
  examples: JsonValue[];
  timeout_ms: number;
  created_at: Date;
  updated_at: Date;
  last_seen_at: Date;
}

export function taskTypeFromRow(row: TaskTypeRow): TaskTypeRecord {
  return {
    name: row.name,
    description: row.description,
    payloadSchema: row.payload_schema,
    examples: row.examples,
    timeoutMs: row.timeout_ms,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastSeenAt: row.last_seen_at,
  };
}

export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  running: number;
  task_types: string[];
  started_at: Date;
  last_heartbeat_at: Date;
}

export function workerFromRow(row: WorkerRow): WorkerRecord {
  return {
    id: row.id,
    host: row.host,
    pid: row.pid,
    concurrency: row.concurrency,
    running: row.running,
    taskTypes: row.task_types,
    startedAt: row.started_at,
    lastHeartbeatAt: row.last_heartbeat_at,
  };
}

export interface ScheduleRow {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  task_type: string;
  template: ScheduleTemplate;
  enabled: boolean;
  next_run_at: Date | null;
  last_run_at: Date | null;
  last_task_id: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export function scheduleFromRow(row: ScheduleRow): ScheduleRecord {
  return {
    id: row.id,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    taskType: row.task_type,
    template: row.template,
    enabled: row.enabled,
    nextRunAt: row.next_run_at,
    lastRunAt: row.last_run_at,
    lastTaskId: row.last_task_id,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface TypePauseRow {
  task_type: string;
  paused_at: Date;
  paused_by: string | null;
  reason: string | null;
}

export function typePauseFromRow(row: TypePauseRow): TypePause {
  return { taskType: row.task_type, pausedAt: row.paused_at, pausedBy: row.paused_by, reason: row.reason };
}

export interface TypeLimitRow {
  task_type: string;
  max_running: number;
  updated_at: Date;
  updated_by: string | null;
}

export function typeLimitFromRow(row: TypeLimitRow): TypeLimit {
  return { taskType: row.task_type, maxRunning: row.max_running, updatedAt: row.updated_at, updatedBy: row.updated_by };
}
