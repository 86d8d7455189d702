import type { BreakerState, BreakerStateName } from '../../core/circuit-breaker.ts';
import type { ScheduleRecord, ScheduleTemplate } from '../../core/schedule.ts';
import type { JsonObject, JsonValue } from '../../core/task.ts';
import type { SessionRecord, TaskTypeRecord, TypeLimit, TypePause, UserRecord, UserRole, WorkerRecord } from '../engine.ts';
import { toDate } from './task-row.ts';

/** Row shapes of the tables other than `tasks`, and their mapping to the engine's records. */

export interface BreakerRow {
  task_type: string;
  state: BreakerStateName;
  consecutive_failures: number;
  consecutive_successes: number;
  opened_at: number | null;
  reopens_at: number | null;
  updated_at: number;
}

export function rowToBreaker(row: BreakerRow): BreakerState {
  return {
    taskType: row.task_type,
    state: row.state,
    consecutiveFailures: row.consecutive_failures,
    consecutiveSuccesses: row.consecutive_successes,
    openedAt: toDate(row.opened_at),
    reopensAt: toDate(row.reopens_at),
    updatedAt: new Date(row.updated_at),
  };
}

export function breakerParams(breaker: BreakerState): Record<string, string | number | null> {
  return {
    task_type: breaker.taskType,
    state: breaker.state,
    consecutive_failures: breaker.consecutiveFailures,
    consecutive_successes: breaker.consecutiveSuccesses,
    opened_at: breaker.openedAt?.getTime() ?? null,
    reopens_at: breaker.reopensAt?.getTime() ?? null,
    updated_at: breaker.updatedAt.getTime(),
  };
}

export interface TaskTypeRow {
  name: string;
  description: string;
  payload_schema: string | null;
  examples: string;
  timeout_ms: number;
  created_at: number;
  updated_at: number;
  last_seen_at: number;
}

export function rowToTaskType(row: TaskTypeRow): TaskTypeRecord {
  return {
    name: row.name,
    description: row.description,
    payloadSchema: row.payload_schema === null ? null : (JSON.parse(row.payload_schema) as JsonObject),
    examples: JSON.parse(row.examples) as JsonValue[],
    timeoutMs: row.timeout_ms,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    lastSeenAt: new Date(row.last_seen_at),
  };
}

export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  running: number;
  task_types: string;
  started_at: number;
  last_heartbeat_at: number;
}

export function rowToWorker(row: WorkerRow): WorkerRecord {
  return {
    id: row.id,
    host: row.host,
    pid: row.pid,
    concurrency: row.concurrency,
    running: row.running,
    taskTypes: JSON.parse(row.task_types) as string[],
    startedAt: new Date(row.started_at),
    lastHeartbeatAt: new Date(row.last_heartbeat_at),
  };
}

export interface UserRow {
  id: string;
  username: string;
  email: string;
  password_hash: string;
  role: UserRole;
  is_active: number;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
}

export function rowToUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    passwordHash: row.password_hash,
    role: row.role,
    isActive: row.is_active !== 0,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    lastLoginAt: toDate(row.last_login_at),
  };
}

export interface SessionRow {
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  last_refreshed_at: number | null;
  user_agent: string | null;
}

export function rowToSession(row: SessionRow): SessionRecord {
  return {
    tokenHash: row.token_hash,
    userId: row.user_id,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
    lastRefreshedAt: toDate(row.last_refreshed_at),
    userAgent: row.user_agent,
  };
}

export interface ScheduleRow {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  task_type: string;
  template: string;
  enabled: number;
  next_run_at: number | null;
  last_run_at: number | null;
  last_task_id: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export function rowToSchedule(row: ScheduleRow): ScheduleRecord {
  return {
    id: row.id,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    taskType: row.task_type,
    template: JSON.parse(row.template) as ScheduleTemplate,
    enabled: row.enabled === 1,
    nextRunAt: toDate(row.next_run_at),
    lastRunAt: toDate(row.last_run_at),
    lastTaskId: row.last_task_id,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export interface TypePauseRow {
  task_type: string;
  paused_at: number;
  paused_by: string | null;
  reason: string | null;
}

export function rowToTypePause(row: TypePauseRow): TypePause {
  return { taskType: row.task_type, pausedAt: new Date(row.paused_at), pausedBy: row.paused_by, reason: row.reason };
}

export interface TypeLimitRow {
  task_type: string;
  max_running: number;
  updated_at: number;
  updated_by: string | null;
}

export function rowToTypeLimit(row: TypeLimitRow): TypeLimit {
  return { taskType: row.task_type, maxRunning: row.max_running, updatedAt: new Date(row.updated_at), updatedBy: row.updated_by };
}
