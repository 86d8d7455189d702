import { Type, type Static } from '@sinclair/typebox';
import { TASK_PRIORITIES, TASK_STATUSES } from '../../core/task.ts';
import { CREATE_TASK_EXAMPLE, TASK_DETAIL_EXAMPLE, TASK_STATS_EXAMPLE, TASK_SUMMARY_EXAMPLE, TASK_TYPE_EXAMPLE } from './examples.ts';
import { AnyJson, DateTime, Nullable, NullableDateTime, StringEnum, Uuid } from './common.ts';

export const Priority = StringEnum(TASK_PRIORITIES, { description: 'critical runs first, low last' });
export const Status = StringEnum(TASK_STATUSES, { description: '`failed` is the dead letter' });

const RetryStrategyInput = Type.Object(
  {
    type: Type.String({ description: 'exponential, linear or fixed (the guide\'s Exponential/Linear/Fixed also accepted)' }),
  },
  { additionalProperties: true, description: 'e.g. {"type":"exponential","base_delay_ms":1000,"multiplier":2,"max_delay_ms":300000,"max_attempts":3}' },
);

const taskInputFields = {
  task_type: Type.String({ minLength: 1, maxLength: 128, description: 'A registered task type (GET /tasks/types)' }),
  payload: Type.Unknown({ description: 'JSON checked against the task type\'s payload schema; at most 1 MB' }),
  priority: Type.Optional(Priority),
  scheduled_at: Type.Optional(Nullable(Type.String({ description: 'Run no earlier than this (RFC 3339); at most 365 days ahead' }))),
  max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  retry_strategy: Type.Optional(Nullable(RetryStrategyInput)),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Your own labels; keys of letters, digits, _ and -' })),
};

export const CreateTaskBody = Type.Object(taskInputFields, { additionalProperties: false, examples: [CREATE_TASK_EXAMPLE] });
export type CreateTaskBody = Static<typeof CreateTaskBody>;

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'Your key for this creation (1-200 printable characters); repeats return the first task' })),
});

export const BatchTaskItem = Type.Object(
  { ...taskInputFields, idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);
export const BatchBody = Type.Object(
  { tasks: Type.Array(BatchTaskItem, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false, examples: [{ tasks: [CREATE_TASK_EXAMPLE, { ...CREATE_TASK_EXAMPLE, payload: { ...CREATE_TASK_EXAMPLE.payload, to: 'bob@example.com' }, idempotency_key: 'welcome-bob' }] }] },
);

export const Attempt = Type.Object({
  attempt: Type.Integer(),
  worker_id: Nullable(Type.String()),
  started_at: NullableDateTime,
  finished_at: DateTime,
  outcome: Type.String({ description: 'completed, failed, cancelled, lease_expired, released (handed back at shutdown) or snoozed (put off by the handler, attempt unspent)' }),
  error: Nullable(Type.String()),
});

const summaryFields = {
  id: Uuid,
  task_type: Type.String(),
  status: Status,
  priority: Priority,
  max_attempts: Type.Integer(),
  current_attempt: Type.Integer(),
  last_error: Nullable(Type.String()),
  created_at: DateTime,
  updated_at: DateTime,
  scheduled_at: NullableDateTime,
  run_at: DateTime,
  started_at: NullableDateTime,
  completed_at: NullableDateTime,
  cancel_requested_at: NullableDateTime,
  created_by: Nullable(Type.String()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  progress: Type.Unknown({ description: 'The handler\'s latest progress report, or null' }),
};

/** A task in lists: everything but its payload, output and history. */
export const TaskSummary = Type.Object(summaryFields, { $id: 'TaskSummary', examples: [TASK_SUMMARY_EXAMPLE] });

/** One task in full. */
/** Whether a live worker takes the task's type (core/type-handling.ts). */
export const TypeHandlingView = Type.Object(
  {
    state: StringEnum(['handled', 'unhandled', 'no_live_workers'] as const, {
      description:
        'handled: a live worker lists the task type. unhandled: workers are live but none lists it, so its waiting tasks stay waiting ' +
        'until one that has a handler starts (a type inserted by another version, or whose workers all stopped). ' +
        'no_live_workers: no worker is live at all (an API running alone, or every worker down): every waiting task waits.',
    }),
    live_workers: Type.Integer({ minimum: 0, description: 'Live workers that list the task type' }),
  },
  { description: 'Whether a live worker takes this task\'s type, as of the request' },
);

export const TaskDetail = Type.Object(
  {
    ...summaryFields,
    payload: AnyJson,
    output: Type.Unknown({ description: 'What the handler returned, or null' }),
    retry_strategy: Type.Record(Type.String(), Type.Unknown()),
    idempotency_key: Nullable(Type.String()),
    worker_id: Nullable(Type.String()),
    lease_expires_at: NullableDateTime,
    rescue_count: Type.Integer(),
    attempts: Type.Array(Attempt),
    handling: Type.Optional(Type.Composite([TypeHandlingView], { description: 'Present on GET /tasks/{id}: whether a live worker takes this task\'s type' })),
  },
  { $id: 'TaskDetail', examples: [TASK_DETAIL_EXAMPLE] },
);

export const TaskIdParams = Type.Object({ id: Uuid });

/** The start of a task id, as people copy it from a short id (`01a226cc`) or a log line. */
export const IdPrefix = Type.String({ pattern: '^[0-9a-fA-F-]{1,36}$', description: 'The start of the task id: 1-36 hex digits and dashes' });

export const ListQuery = Type.Object(
  {
    status: Type.Optional(Type.String({ description: 'One status or several, comma-separated (pending,retrying)' })),
    task_type: Type.Optional(Type.String({ description: 'One type or several, comma-separated' })),
    priority: Type.Optional(Type.String({ description: 'One priority or several, comma-separated' })),
    created_after: Type.Optional(Type.String({ format: 'date-time' })),
    created_before: Type.Optional(Type.String({ format: 'date-time' })),
    created_by: Type.Optional(Type.String({ description: 'A user id (moderators and admins only)' })),
    id_prefix: Type.Optional(IdPrefix),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const PageQuery = Type.Object(
  {
    task_type: Type.Optional(Type.String()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

const StatusCounts = Type.Record(Type.String(), Type.Integer());

export const TaskStatsView = Type.Object(
  {
    scope: StringEnum(['own', 'all'] as const, { description: 'own: the caller\'s tasks (role user); all: every task' }),
    total: Type.Integer(),
    pending: Type.Integer(),
    scheduled: Type.Integer(),
    running: Type.Integer(),
    retrying: Type.Integer(),
    completed: Type.Integer(),
    failed: Type.Integer(),
    cancelled: Type.Integer(),
    by_type: Type.Record(Type.String(), StatusCounts),
    by_priority: Type.Record(Type.String(), StatusCounts),
    oldest_ready_age_ms: Nullable(Type.Integer()),
    completed_last_minute: Type.Integer(),
    completed_last_hour: Type.Integer(),
    failed_last_minute: Type.Integer(),
    failed_last_hour: Type.Integer(),
    live_workers: Type.Integer({ minimum: 0, description: 'Workers whose heartbeat is recent' }),
    unhandled_types: Type.Array(
      Type.Object({ task_type: Type.String(), waiting: Type.Integer({ description: 'Pending, scheduled and retrying tasks of the type (in this scope)' }) }),
      { description: 'Task types with waiting tasks that no live worker lists: they wait until a worker with a handler starts. Empty while no worker is live at all (see live_workers).' },
    ),
  },
  { $id: 'TaskStatsView', examples: [TASK_STATS_EXAMPLE] },
);

export const TaskTypeView = Type.Object(
  {
    task_type: Type.String(),
    description: Type.String(),
    payload_schema: Nullable(Type.Record(Type.String(), Type.Unknown())),
    examples: Type.Array(AnyJson),
    timeout_ms: Type.Integer(),
    registered_at: NullableDateTime,
    updated_at: NullableDateTime,
    last_seen_at: NullableDateTime,
    live_workers: Type.Integer({ description: 'Workers with a recent heartbeat that handle this type' }),
    has_live_worker: Type.Boolean(),
    paused: Type.Boolean({ description: 'Paused types are not claimed: their tasks wait (POST /tasks/types/:task_type/resume)' }),
    paused_at: NullableDateTime,
    paused_reason: Nullable(Type.String()),
    max_running: Nullable(Type.Integer({ description: 'Its concurrency limit across every worker, or null for none (PUT /tasks/types/:task_type/limit)' })),
    running: Type.Integer({ description: 'Its tasks running (claimed) now' }),
  },
  { $id: 'TaskTypeView', examples: [TASK_TYPE_EXAMPLE] },
);

export const LimitBody = Type.Object(
  { max_running: Type.Integer({ minimum: 1, maximum: 100_000, description: 'At most this many of its tasks run at once, across every worker' }) },
  { additionalProperties: false },
);
export const TypeLimitView = Type.Object(
  {
    task_type: Type.String(),
    max_running: Nullable(Type.Integer()),
    updated_at: NullableDateTime,
    updated_by: Nullable(Type.String()),
  },
  { examples: [{ task_type: 'webhook', max_running: 5, updated_at: '2026-01-01T12:00:00.000Z', updated_by: '7c9e6679-7425-40de-944b-e07fc1f90ae7' }] },
);

export const TaskTypeParams = Type.Object({ task_type: Type.String({ minLength: 1, maxLength: 128 }) });
export const PauseBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500, description: 'Shown to everyone who looks: why, and until when' })) },
  { additionalProperties: false },
);
export const TypePauseView = Type.Object(
  {
    task_type: Type.String(),
    paused: Type.Boolean(),
    paused_at: NullableDateTime,
    paused_by: Nullable(Type.String()),
    reason: Nullable(Type.String()),
  },
  { examples: [{ task_type: 'webhook', paused: true, paused_at: '2026-01-01T12:00:00.000Z', paused_by: '7c9e6679-7425-40de-944b-e07fc1f90ae7', reason: 'Partner API maintenance until 14:00 UTC' }] },
);

export const BatchResult = Type.Object({
  created: Type.Integer({ description: 'How many were new (the rest matched an idempotency key)' }),
  tasks: Type.Array(Type.Ref('TaskSummary')),
});

export const DeleteResult = Type.Object({ id: Uuid, deleted: Type.Literal(true) });
