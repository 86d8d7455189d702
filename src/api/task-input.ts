import { validationError } from '../core/errors.ts';
import { MAX_PAYLOAD_BYTES, newTask, type NewTask } from '../core/new-task.ts';
import type { TaskPriority } from '../core/task.ts';
import { ApiError } from './api-error.ts';
import type { ApiContext } from './api-context.ts';
import { scopeIdempotencyKey } from './views/idempotency-scope.ts';

/** A task as clients send it (POST /tasks and each item of POST /tasks/batch). */
export interface TaskBody {
  task_type: string;
  payload: unknown;
  priority?: TaskPriority | undefined;
  scheduled_at?: string | null | undefined;
  max_attempts?: number | undefined;
  retry_strategy?: unknown;
  metadata?: Record<string, unknown> | undefined;
}

const METADATA_KEY = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_METADATA_VALUE_BYTES = 4 * 1024;
const MAX_SCHEDULE_AHEAD_MS = 365 * 24 * 3_600_000;
const MAX_SCHEDULE_BEHIND_MS = 3_600_000;

/**
 * Checks one task at the door and builds it for the engine: size first (413), then the type and its
 * payload schema, then the starter's rules on metadata and schedule, then core's newTask(). Errors
 * name the field, prefixed by `field` in a batch (`tasks[3].payload.to`).
 */
export async function buildTask(ctx: ApiContext, body: TaskBody, p: { userId: string; idempotencyKey: string | null; now: Date; field?: string }): Promise<NewTask> {
  const at = (name: string) => (p.field ? `${p.field}.${name}` : name);
  const payloadJson = JSON.stringify(body.payload ?? null);
  if (Buffer.byteLength(payloadJson) > MAX_PAYLOAD_BYTES) {
    throw new ApiError('PAYLOAD_TOO_LARGE', `${at('payload')}: must be at most 1MB of JSON`, { field: at('payload'), details: { limit_bytes: MAX_PAYLOAD_BYTES } });
  }
  await ctx.taskTypes.validate(body.task_type, body.payload, at('payload'), at('task_type'));
  checkMetadata(body.metadata, at('metadata'));
  checkSchedule(body.scheduled_at, p.now, at('scheduled_at'));
  return newTask(
    {
      taskType: body.task_type,
      payload: body.payload,
      priority: body.priority,
      scheduledAt: body.scheduled_at,
      maxAttempts: body.max_attempts,
      retryStrategy: body.retry_strategy,
      // As the starter did: marks tasks that came through the API rather than a library call.
      metadata: { ...(body.metadata ?? {}), api_created: true },
      idempotencyKey: p.idempotencyKey === null ? null : scopeIdempotencyKey(p.userId, p.idempotencyKey),
      createdBy: p.userId,
    },
    p.now,
    p.field ?? '',
  );
}

export function checkMetadata(metadata: Record<string, unknown> | undefined, field: string): void {
  if (metadata === undefined) return;
  for (const [key, value] of Object.entries(metadata)) {
    if (!METADATA_KEY.test(key)) throw validationError(`${field}.${key}`, 'keys must be 1-128 characters of letters, digits, _ and -');
    if (Buffer.byteLength(JSON.stringify(value) ?? '') > MAX_METADATA_VALUE_BYTES) throw validationError(`${field}.${key}`, 'must be at most 4KB of JSON');
  }
}

function checkSchedule(scheduledAt: string | null | undefined, now: Date, field: string): void {
  if (scheduledAt === undefined || scheduledAt === null) return;
  const at = Date.parse(scheduledAt);
  if (Number.isNaN(at)) throw validationError(field, 'must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z');
  if (at - now.getTime() > MAX_SCHEDULE_AHEAD_MS) throw validationError(field, 'must be at most 365 days ahead');
  if (now.getTime() - at > MAX_SCHEDULE_BEHIND_MS) throw validationError(field, 'must not be more than 1 hour in the past');
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** The Idempotency-Key header, if any: 1–200 printable ASCII characters. */
export function idempotencyKeyHeader(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY.test(value)) {
    throw validationError('Idempotency-Key', 'must be 1-200 printable ASCII characters without spaces');
  }
  return value;
}
