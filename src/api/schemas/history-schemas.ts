import { Type } from '@sinclair/typebox';
import { DateTime, Nullable, StringEnum } from './common.ts';

/** The chart ranges the overview offers, each with its bucket: 60 points an hour, 96 a day, 168 a week. */
export const HISTORY_RANGES = {
  '1h': { spanMs: 3_600_000, bucketMs: 60_000 },
  '24h': { spanMs: 86_400_000, bucketMs: 15 * 60_000 },
  '7d': { spanMs: 7 * 86_400_000, bucketMs: 3_600_000 },
} as const;
export type HistoryRange = keyof typeof HISTORY_RANGES;

export const HistoryQuery = Type.Object({
  range: Type.Optional(StringEnum(Object.keys(HISTORY_RANGES) as HistoryRange[], { description: '1h (1-minute buckets), 24h (15-minute buckets) or 7d (1-hour buckets); default 24h' })),
  task_type: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Only this task type' })),
});

const Millis = Nullable(Type.Integer({ minimum: 0 }));

export const HistoryBucket = Type.Object({
  start: DateTime,
  completed: Type.Integer(),
  failed: Type.Integer(),
  cancelled: Type.Integer(),
  wait_p50_ms: Millis,
  wait_p95_ms: Millis,
  wait_p99_ms: Millis,
  run_p50_ms: Millis,
  run_p95_ms: Millis,
  run_p99_ms: Millis,
});

export const TaskHistoryView = Type.Object(
  {
    scope: StringEnum(['own', 'all'] as const, { description: 'own: the caller\'s tasks (role user); all: every task' }),
    range: StringEnum(Object.keys(HISTORY_RANGES) as HistoryRange[]),
    bucket_ms: Type.Integer(),
    rolled_up_through: Nullable(Type.String({
      format: 'date-time',
      description: 'Minutes before this come from the stored per-minute rollups; later minutes were counted from the tasks just now. Null before the first rollup',
    })),
    buckets: Type.Array(HistoryBucket, {
      description: 'Oldest first, every bucket present. Counts are tasks that finished in the bucket, by the status they had when their minute was rolled up. ' +
        'A bucket\'s percentiles are exact for one minute of one type; over wider buckets or several types they are the largest of the minutes\' (an upper bound). Queue wait: from due to started; run time: from started to finished.',
    }),
  },
  { $id: 'TaskHistoryView' },
);
