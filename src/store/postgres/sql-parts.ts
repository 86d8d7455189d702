import { createHash } from 'node:crypto';
import { FINISHED_STATUSES, READY_STATUSES } from '../../core/task.ts';
import type { TaskLease } from '../../core/task.ts';

/** A prepared statement: pg parses and plans it once per connection, then only sends the values. */
export interface Statement {
  name: string;
  text: string;
}

/** Every column of `tasks`, named rather than `*` so that a later migration adding a column cannot break a prepared plan. */
export const TASK_COLUMN_NAMES = [
  'id', 'task_type', 'payload', 'status', 'priority_rank', 'retry_strategy', 'max_attempts', 'current_attempt', 'last_error',
  'output', 'metadata', 'idempotency_key', 'created_by', 'created_at', 'updated_at', 'scheduled_at', 'run_at', 'started_at',
  'completed_at', 'worker_id', 'lease_expires_at', 'cancel_requested_at', 'rescue_count', 'progress', 'attempts',
] as const;

/**
 * What a claim reads back: the columns of a ClaimedTask, nothing more. Every jsonb and timestamp
 * not sent is one less for PostgreSQL to print and the worker to parse, hundreds of times per claim.
 */
export const CLAIM_COLUMN_NAMES = [
  'id', 'task_type', 'payload', 'priority_rank', 'run_at', 'current_attempt', 'max_attempts', 'metadata', 'idempotency_key', 'created_by', 'created_at', 'breaker_scope',
  'rescue_count', 'attempt_started', 'unstarted_losses',
] as const;

/**
 * A claim's RETURNING list over the claimed rows `t`. Its two timestamps come as epoch milliseconds
 * (claimRowsFromWire in task-row.ts makes them Dates): a number is cheaper for PostgreSQL to print
 * and for the worker to read than a timestamptz's text, which took 8 % of a worker's CPU in a drain.
 * round(), not a cast that truncates: the float epoch of an exact millisecond may fall a hair short
 * of it, and Conveyor stores milliseconds only (JavaScript Dates).
 */
export const CLAIM_RETURNING = CLAIM_COLUMN_NAMES.map((column) =>
  column === 'run_at' || column === 'created_at' ? `round(date_part('epoch', t.${column}) * 1000)::int8 AS ${column}` : `t.${column}`,
).join(', ');

/**
 * What a claim sets attempt_started to: a claimed row (tasks `t`, its place `ranked.n` in the claim's
 * order) counts as started when it fills a free slot (n <= `startNow`, a parameter) and
 * core/lifecycle.ts decideStart would not record its start first. Shared by every claim statement.
 */
export const attemptStartedAtClaim = (startNow: string) => `attempt_started = (ranked.n <= ${startNow} AND t.rescue_count = 0 AND t.unstarted_losses = 0)`;

export const BREAKER_COLUMNS = 'task_type, scope, state, consecutive_failures, consecutive_successes, opened_at, reopens_at, updated_at';
export const USER_COLUMNS = 'id, username, email, password_hash, role, is_active, created_at, updated_at, last_login_at';
export const ACCOUNT_TOKEN_COLUMNS = 'token_hash, kind, user_id, role, created_by, created_at, expires_at, used_at';
export const SESSION_COLUMNS = 'token_hash, user_id, created_at, expires_at, last_refreshed_at, user_agent';
export const TYPE_COLUMNS = 'name, description, payload_schema, examples, timeout_ms, created_at, updated_at, last_seen_at';
export const WORKER_COLUMNS = 'id, host, pid, concurrency, running, task_types, started_at, last_heartbeat_at';

/** `columns` qualified by `table` and renamed with `prefix`: 'a, b' → 'u.a AS u_a, u.b AS u_b'. */
export const prefixed = (table: string, prefix: string, columns: string) =>
  columns
    .split(', ')
    .map((column) => `${table}${column}${prefix ? ` AS ${prefix}${column}` : ''}`)
    .join(', ');
const list = (values: readonly string[]) => values.map((value) => `'${value}'`).join(', ');
export const READY = list(READY_STATUSES);
export const FINISHED = list(FINISHED_STATUSES);

/** Quotes an identifier for SQL text (schema names are checked before they get here, but quote anyway). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal for SQL text. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The NOTIFY channel of a schema. Channel names are identifiers, so at most 63 bytes: a long schema
 * name is shortened with a hash so that two long names still get different channels.
 */
export function insertChannel(schema: string): string {
  return schemaChannel('conveyor_insert_', schema);
}

/** The channel of change notifications (changeNotify): the live dashboard's, never heard by workers. */
export function changeChannel(schema: string): string {
  return schemaChannel('conveyor_change_', schema);
}

function schemaChannel(prefix: string, schema: string): string {
  const channel = `${prefix}${schema}`;
  if (channel.length <= 63) return channel;
  const hash = createHash('sha256').update(schema).digest('hex').slice(0, 12);
  return `${channel.slice(0, 50)}_${hash}`;
}

/** A timestamptz as ISO 8601 UTC text with milliseconds, the form JavaScript's Date writes, for JSON. */
export const iso = (expression: string) => `to_char((${expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** `attempts || [entry]` for the attempt ending now; `t` qualifies columns where a FROM makes them ambiguous. */
export function appendAttempt(outcome: string, error: string, finishedAt: string, t = ''): string {
  return `${t}attempts || jsonb_build_array(jsonb_build_object('attempt', ${t}current_attempt, 'worker_id', ${t}worker_id, 'started_at', ${iso(`${t}started_at`)}, 'finished_at', ${iso(finishedAt)}, 'outcome', ${outcome}, 'error', ${error}))`;
}

/**
 * A WHERE condition that is always true and, for each row where `wake` (decided by the lifecycle's
 * wakesWorkers) is true, sends the insert notification with the row's task type: tasks due again wake
 * idle workers as an insert does. (pg_notify returns void, which is never NULL.) Identical
 * notifications in one transaction are sent once.
 */
export function notifyIf(wake: string, channel: string): string {
  return `(NOT ${wake} OR pg_notify(${channel}, task_type) IS NOT NULL)`;
}

/** The first half of a limited type's advisory-lock key: one number per schema, so schemas do not wait for each other. */
export function limitLockSpace(schema: string): number {
  return createHash('sha256').update(`conveyor:limits:${schema}`).digest().readInt32BE(0);
}

/**
 * "The task runs", for statements that find tasks by id: written so that it does not imply
 * tasks_lease_idx's predicate (status = 'running'), which keeps the planner on the primary key. With
 * statistics saying no task runs (taken while none did, normal with a long history) it otherwise
 * walked the lease index, every entry a drain had left in it, once per task of a batch: 140-230 ms
 * per batch of completions at 1,000,000 tasks (bench --scale). No task has the status '-'.
 */
export const RUNNING_BY_ID = (t = '') => `${t}status IN ('running', '-')`;

/** The lease fence: a change to a running task applies only to the attempt and worker that hold it. */
export const FENCE = `id = $1::uuid AND ${RUNNING_BY_ID()} AND current_attempt = $2::int AND worker_id = $3::text`;

/** What every statement of one schema is built with: the quoted schema, names, columns, the NOTIFY channel. */
export interface SqlContext {
  schema: string;
  /** The schema, quoted for SQL text. Tables are always schema-qualified, never found through search_path. */
  s: string;
  /** A prepared statement named for the schema, its text on one line. */
  statement(suffix: string, text: string): Statement;
  /** Every column of `tasks`. */
  taskColumns: string;
  /** The NOTIFY channel, as a literal. */
  channel: string;
}

export function sqlContext(schema: string): SqlContext {
  return {
    schema,
    s: quoteIdentifier(schema),
    statement: (suffix, text) => ({ name: `conveyor_${schema}_${suffix}`, text: text.replace(/\s+/g, ' ').trim() }),
    taskColumns: TASK_COLUMN_NAMES.join(', '),
    channel: quoteLiteral(insertChannel(schema)),
  };
}

/** The first three parameters of every fenced statement. */
export function fence(lease: TaskLease): [string, number, string] {
  return [lease.id, lease.attempt, lease.workerId];
}

/** Leases in id order: statements that lock several rows lock them in this order, so two cannot deadlock. */
export function byId(a: TaskLease, b: TaskLease): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
