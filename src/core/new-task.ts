import { breakerScopeOf } from './breaker-scope.ts';
import { validationError } from './errors.ts';
import { uuidv7 } from './id.ts';
import { assertJson, assertJsonObject } from './json.ts';
import { DEFAULT_RETRY_STRATEGY, MAX_ATTEMPTS_LIMIT, parseRetryStrategy, type RetryStrategy, STORED_DEFAULT_STRATEGY, storedRetryStrategy } from './retry-strategy.ts';
import { PRIORITY_RANK, TASK_PRIORITIES, type JsonObject, type JsonValue, type TaskPriority } from './task.ts';
import { withTraceContext } from './trace-context.ts';

/** What a caller gives to create a task. Only `taskType` and `payload` are required. */
export interface TaskInput {
  taskType: string;
  payload: unknown;
  priority?: TaskPriority | undefined;
  /** Run no earlier than this; in the future makes the task `scheduled`. */
  scheduledAt?: Date | string | null | undefined;
  maxAttempts?: number | undefined;
  retryStrategy?: unknown;
  metadata?: unknown;
  /** Inserting twice with the same key returns the first task instead of a duplicate. */
  idempotencyKey?: string | null | undefined;
  createdBy?: string | null | undefined;
}

/** A validated task, ready for an engine to write. JSON is serialised once, here. */
export interface NewTask {
  id: string;
  taskType: string;
  payload: JsonValue;
  payloadJson: string;
  status: 'pending' | 'scheduled';
  priority: TaskPriority;
  priorityRank: number;
  retryStrategy: RetryStrategy;
  /** What the row stores: storedRetryStrategy's text (`{}` for the default). */
  retryStrategyJson: string;
  maxAttempts: number;
  metadata: JsonObject;
  metadataJson: string;
  idempotencyKey: string | null;
  createdBy: string | null;
  /** Which circuit breaker the task answers to besides its type's (breakerScopeOf): a webhook's host; null for most types. */
  breakerScope: string | null;
  createdAt: Date;
  scheduledAt: Date | null;
  runAt: Date;
}

export const TASK_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
export const MAX_METADATA_BYTES = 64 * 1024;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** An unfrozen copy to spread from: spreading the frozen original is several times slower. */
const DEFAULT_RETRY_STRATEGY_SOURCE: RetryStrategy = { ...DEFAULT_RETRY_STRATEGY };

/** Validates and normalises one task; `field` prefixes error paths (`tasks[3].payload`). */
export function newTask(input: TaskInput, now: Date, field = ''): NewTask {
  if (input === null || typeof input !== 'object') throw validationError(field || 'task', 'must be an object');

  if (typeof input.taskType !== 'string' || !TASK_TYPE_PATTERN.test(input.taskType)) {
    throw validationError(at(field, 'task_type'), 'must be 1-128 characters of letters, digits, _ . : - starting with a letter or digit');
  }

  if (input.payload === undefined) throw validationError(at(field, 'payload'), 'is required');
  // The common case is checked without building error paths; assertJson finds and names any problem.
  if (!isPlainJson(input.payload, 0)) assertJson(input.payload, at(field, 'payload'));
  const payloadJson = JSON.stringify(input.payload);
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so short text needs no byte count.
  if (payloadJson.length * 3 > MAX_PAYLOAD_BYTES && Buffer.byteLength(payloadJson) > MAX_PAYLOAD_BYTES) throw validationError(at(field, 'payload'), 'must be at most 1MB of JSON');

  const priority = input.priority ?? 'normal';
  if (!TASK_PRIORITIES.includes(priority)) {
    throw validationError(at(field, 'priority'), `must be one of ${TASK_PRIORITIES.join(', ')} (got ${JSON.stringify(priority)})`);
  }

  const { retryStrategy, retryStrategyJson, maxAttempts } = resolveAttempts(input, field);

  let metadata: JsonObject;
  let metadataJson: string;
  if (input.metadata === undefined || input.metadata === null) {
    metadata = {};
    metadataJson = '{}';
  } else {
    if (!isPlainObject(input.metadata) || !isPlainJson(input.metadata, 0)) assertJsonObject(input.metadata, at(field, 'metadata'));
    metadata = input.metadata as JsonObject;
    metadataJson = JSON.stringify(metadata);
  }
  const traced = withTraceContext(metadata);
  if (traced !== metadata) {
    metadata = traced;
    metadataJson = JSON.stringify(metadata);
  }
  if (metadataJson.length * 3 > MAX_METADATA_BYTES && Buffer.byteLength(metadataJson) > MAX_METADATA_BYTES) throw validationError(at(field, 'metadata'), 'must be at most 64KB of JSON');

  const scheduledAt = parseDate(input.scheduledAt, field);
  const due = scheduledAt !== null && scheduledAt.getTime() > now.getTime();

  const idempotencyKey = input.idempotencyKey ?? null;
  if (idempotencyKey !== null && (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    throw validationError(at(field, 'idempotency_key'), `must be a string of 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  const createdBy = input.createdBy ?? null;
  if (createdBy !== null && typeof createdBy !== 'string') throw validationError(at(field, 'created_by'), 'must be a user id');

  return {
    id: uuidv7(now.getTime()),
    taskType: input.taskType,
    payload: input.payload as JsonValue,
    payloadJson,
    status: due ? 'scheduled' : 'pending',
    priority,
    priorityRank: PRIORITY_RANK[priority],
    retryStrategy,
    retryStrategyJson,
    maxAttempts,
    metadata,
    metadataJson,
    idempotencyKey,
    createdBy,
    breakerScope: breakerScopeOf(input.taskType, input.payload as JsonValue),
    createdAt: now,
    scheduledAt,
    // A schedule in the past is due since then, so it goes ahead of tasks that became due later.
    runAt: scheduledAt ?? now,
  };
}

/**
 * The name of one of the task's fields for an error (`tasks[3].payload`). A plain function, built only
 * when there is an error: a closure made per task costs more than the rest of the checks under tsx
 * (which wraps every named closure to keep its name), and a batch makes thousands.
 */
function at(field: string, name: string): string {
  return field ? `${field}.${name}` : name;
}

/** Deeper than assertJson allows, or a cycle: let assertJson say which. */
const MAX_PLAIN_DEPTH = 64;

function isPlainObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * True when `value` is certainly what assertJson accepts (plain objects and arrays of strings,
 * booleans, null and finite numbers, no `__proto__` key, not too deep); false sends it to assertJson,
 * which accepts it or says what is wrong and where. A cycle only goes deeper and deeper, so it ends
 * at the depth limit.
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_PLAIN_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      if (!isPlainObject(value)) return false;
      for (const key of Object.keys(value)) {
        if (key === '__proto__' || !isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * `max_attempts` may come on its own, inside the strategy (the guide's form), or both when they agree.
 * The task's column is the one that counts; the stored strategy is made to match it.
 */
function resolveAttempts(input: TaskInput, field: string): { retryStrategy: RetryStrategy; retryStrategyJson: string; maxAttempts: number } {
  const given = input.retryStrategy;
  // The common case, no strategy and no count: the default (a copy, so that no two tasks share one
  // object), stored as the empty object.
  if ((given === undefined || given === null) && input.maxAttempts === undefined) {
    return { retryStrategy: { ...DEFAULT_RETRY_STRATEGY_SOURCE }, retryStrategyJson: STORED_DEFAULT_STRATEGY, maxAttempts: DEFAULT_RETRY_STRATEGY.max_attempts };
  }
  const strategy = given === undefined || given === null ? null : parseRetryStrategy(given, at(field, 'retry_strategy'));
  const explicit = input.maxAttempts;
  if (explicit !== undefined && (typeof explicit !== 'number' || !Number.isInteger(explicit) || explicit < 1 || explicit > MAX_ATTEMPTS_LIMIT)) {
    throw validationError(at(field, 'max_attempts'), `must be a whole number from 1 to ${MAX_ATTEMPTS_LIMIT}`);
  }
  const strategyNamesAttempts = strategy !== null && (given as Record<string, unknown>).max_attempts !== undefined;
  if (explicit !== undefined && strategyNamesAttempts && strategy.max_attempts !== explicit) {
    throw validationError(at(field, 'max_attempts'), `is ${explicit} but retry_strategy.max_attempts is ${strategy.max_attempts}; give one or make them agree`);
  }
  const base = strategy ?? DEFAULT_RETRY_STRATEGY;
  const maxAttempts = explicit ?? base.max_attempts;
  const retryStrategy = { ...base, max_attempts: maxAttempts };
  return { retryStrategy, retryStrategyJson: storedRetryStrategy(retryStrategy), maxAttempts };
}

function parseDate(value: Date | string | null | undefined, field: string): Date | null {
  if (value === undefined || value === null) return null;
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
  if (date === null || Number.isNaN(date.getTime())) throw validationError(at(field, 'scheduled_at'), 'must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z');
  return date;
}
