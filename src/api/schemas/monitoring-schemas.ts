import { Type } from '@sinclair/typebox';
import { DateTime, NullableDateTime, StringEnum } from './common.ts';
import { BREAKER_EXAMPLE, WORKER_EXAMPLE } from './examples.ts';

export const WorkerView = Type.Object(
  {
    id: Type.String(),
    host: Type.String(),
    pid: Type.Integer(),
    concurrency: Type.Integer(),
    running: Type.Integer(),
    task_types: Type.Array(Type.String()),
    started_at: DateTime,
    last_heartbeat_at: DateTime,
    live: Type.Boolean({ description: 'Heartbeat seen recently' }),
  },
  { $id: 'WorkerView', examples: [WORKER_EXAMPLE] },
);

export const BreakerView = Type.Object(
  {
    task_type: Type.String(),
    scope: Type.Union([Type.String(), Type.Null()], {
      description: "null: the type's own breaker. Otherwise the part of the type it covers: a webhook breaker is kept per destination host (`api.example.com`, `127.0.0.1:8080`)",
    }),
    label: Type.String({ description: 'The breaker named for people: `webhook`, or `webhook @ api.example.com` for a scoped one' }),
    state: StringEnum(['closed', 'open', 'half_open'] as const, { description: 'As of now: an open breaker whose wait is over is half_open' }),
    consecutive_failures: Type.Integer(),
    consecutive_successes: Type.Integer(),
    opened_at: NullableDateTime,
    reopens_at: NullableDateTime,
    updated_at: NullableDateTime,
  },
  { $id: 'BreakerView', examples: [BREAKER_EXAMPLE] },
);

export const BreakerParams = Type.Object({ task_type: Type.String({ minLength: 1, maxLength: 128 }) });

export const BreakerResetQuery = Type.Object({
  scope: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: "The scoped breaker to close (a webhook's host); left out: the type's own breaker" })),
});

export const HealthView = Type.Object(
  {
    status: Type.Literal('healthy'),
    version: Type.String(),
    engine: Type.String(),
    uptime_seconds: Type.Number(),
    timestamp: DateTime,
    documentation: Type.Object({ openapi_json: Type.String(), api_docs: Type.String() }),
  },
  { examples: [{ status: 'healthy', version: '0.1.0', engine: 'sqlite', uptime_seconds: 3600.5, timestamp: '2026-01-01T12:00:00.000Z', documentation: { openapi_json: '/api-docs/openapi.json', api_docs: '/api-docs' } }] },
);

export const LiveView = Type.Object({ status: Type.Literal('alive'), timestamp: DateTime });

const Check = Type.Object({ status: Type.String(), message: Type.Optional(Type.String()), live: Type.Optional(Type.Integer()) });
export const ReadyView = Type.Object(
  {
    status: StringEnum(['ready', 'not_ready'] as const),
    timestamp: DateTime,
    checks: Type.Object({ database: Check, workers: Check }),
  },
  { examples: [{ status: 'ready', timestamp: '2026-01-01T12:00:00.000Z', checks: { database: { status: 'ok' }, workers: { status: 'ok', live: 2 } } }] },
);

/** GET /events answers a stream, not JSON: documented as such (the route writes it itself). */
export const EventStream = {
  description: 'A `text/event-stream`: `event: <name>` and `data: <JSON>` lines per event, a blank line after each',
  content: {
    'text/event-stream': {
      schema: Type.String(),
      example: 'event: tasks\ndata: {"tasks":[],"deleted":[]}\n\n',
    },
  },
};
