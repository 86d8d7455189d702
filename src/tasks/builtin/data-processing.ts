import { Type, type Static } from '@sinclair/typebox';
import type { JsonObject, JsonValue } from '../../core/task.ts';
import { PermanentTaskError } from '../../core/task-errors.ts';
import { defineTask } from '../define-task.ts';
import { exactMean, exactSum, fsum } from './exact-sum.ts';

/** The API's 1 MB payload limit binds first; this bound holds for tasks inserted by other means. */
export const MAX_DATA_ITEMS = 1_000_000;

export const DATA_OPERATIONS = ['sum', 'count', 'mean', 'min', 'max', 'median', 'percentile', 'stddev', 'sort', 'unique', 'stats'] as const;
type Operation = (typeof DATA_OPERATIONS)[number];

const DataProcessingPayload = Type.Object(
  {
    operation: Type.Union(DATA_OPERATIONS.map((name) => Type.Literal(name)), { description: DATA_OPERATIONS.join(', ') }),
    data: Type.Array(Type.Number(), { maxItems: MAX_DATA_ITEMS, description: 'The numbers' }),
    p: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'percentile: which one, 0..100' })),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { description: 'sort: direction (asc)' })),
    sample: Type.Optional(Type.Boolean({ description: 'stddev, stats: sample (n-1) rather than population (n) deviation' })),
  },
  { additionalProperties: false },
);
type DataProcessingPayload = Static<typeof DataProcessingPayload>;

/**
 * `data_processing`: statistics over an array of numbers. Integer sums are exact at any size (past
 * 2^53 they are returned as a decimal string); other sums are correctly rounded (fsum). Percentiles
 * interpolate linearly between the two nearest ranks (NumPy's default, Excel's PERCENTILE.INC);
 * stddev is the population deviation unless `sample` is set.
 */
export const dataProcessingTask = defineTask({
  name: 'data_processing',
  description: `Computes ${DATA_OPERATIONS.join(', ')} over an array of numbers (exact for integers).`,
  payload: DataProcessingPayload,
  examples: [
    { operation: 'sum', data: [1, 2, 3, 4, 5] },
    { operation: 'percentile', data: [12, 5, 7, 31, 18, 2], p: 90 },
    { operation: 'stats', data: [2.5, 3.5, 1, 8] },
  ],
  timeoutMs: 60_000,
  async handler(payload, context) {
    if (context.signal.aborted) throw context.signal.reason;
    const result = compute(payload);
    return { operation: payload.operation, count: payload.data.length, result } satisfies JsonObject;
  },
});

function compute(payload: DataProcessingPayload): JsonValue {
  const { operation, data } = payload;
  switch (operation) {
    case 'count':
      return data.length;
    case 'sum':
      return sum(data);
    case 'sort': {
      const sorted = Array.from(sortedCopy(data));
      return payload.order === 'desc' ? sorted.reverse() : sorted;
    }
    case 'unique':
      // First appearance order; 0 and -0 count as one value, as they print the same in JSON.
      return [...new Set(data)];
    case 'stats':
      return stats(data, payload.sample === true);
    default:
      return single(operation, payload);
  }
}

/** Operations that have no answer for an empty array. */
function single(operation: Exclude<Operation, 'count' | 'sum' | 'sort' | 'unique' | 'stats'>, payload: DataProcessingPayload): JsonValue {
  const { data } = payload;
  if (data.length === 0) throw new PermanentTaskError(`${operation} needs at least one number in payload.data`);
  switch (operation) {
    case 'mean':
      return mean(data);
    case 'min':
      return extreme(data, (a, b) => a < b);
    case 'max':
      return extreme(data, (a, b) => a > b);
    case 'median':
      return percentile(sortedCopy(data), 50);
    case 'percentile':
      if (payload.p === undefined) throw new PermanentTaskError('payload.p (0..100) is required for the percentile operation');
      return percentile(sortedCopy(data), payload.p);
    case 'stddev': {
      const deviation = stddev(data, payload.sample === true);
      if (deviation === null) throw new PermanentTaskError('a sample standard deviation needs at least two numbers');
      return deviation;
    }
  }
}

function sum(data: readonly number[]): number | string {
  let total: number | bigint;
  try {
    total = exactSum(data);
  } catch (error) {
    throw new PermanentTaskError((error as Error).message);
  }
  // JSON numbers beyond 2^53 would be rounded by whoever reads them: a string keeps every digit.
  return typeof total === 'bigint' ? (isSafe(total) ? Number(total) : total.toString()) : total;
}

function mean(data: readonly number[]): number {
  try {
    return exactMean(data);
  } catch {
    // The sum overflows a double but the mean need not: scale down first.
    return fsum(data.map((x) => x / data.length));
  }
}

function extreme(data: readonly number[], better: (a: number, b: number) => boolean): number {
  // A loop, not Math.min(...data): spreading a million arguments overflows the stack.
  let best = data[0]!;
  for (let i = 1; i < data.length; i++) if (better(data[i]!, best)) best = data[i]!;
  return best;
}

function sortedCopy(data: readonly number[]): Float64Array {
  // A typed array sorts numerically (and fast); Array.prototype.sort would compare strings.
  return Float64Array.from(data).sort();
}

/** Linear interpolation between closest ranks; exact when it lands on a rank or halves two integers. */
function percentile(sorted: Float64Array, p: number): number {
  const rank = ((sorted.length - 1) * p) / 100;
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const a = sorted[lower]!;
  const b = sorted[upper]!;
  if (lower === upper || a === b) return normalizeZero(a);
  const fraction = rank - lower;
  if (fraction === 0.5 && Number.isSafeInteger(a + b)) return (a + b) / 2;
  const value = a + (b - a) * fraction;
  return Number.isFinite(value) ? value : a * (1 - fraction) + b * fraction;
}

function stddev(data: readonly number[], sample: boolean): number | null {
  const variance = varianceOf(data, sample);
  return variance === null ? null : Math.sqrt(variance);
}

/** Two passes (the mean, then squared deviations from it, summed with fsum): no catastrophic cancellation. */
function varianceOf(data: readonly number[], sample: boolean): number | null {
  const n = data.length;
  if (n === 0 || (sample && n < 2)) return null;
  const m = mean(data);
  const squares = data.map((x) => (x - m) * (x - m));
  return fsum(squares) / (sample ? n - 1 : n);
}

function stats(data: readonly number[], sample: boolean): JsonObject {
  if (data.length === 0) {
    return { count: 0, sum: 0, mean: null, min: null, max: null, median: null, p25: null, p75: null, stddev: null, variance: null };
  }
  const sorted = sortedCopy(data);
  const variance = varianceOf(data, sample);
  return {
    count: data.length,
    sum: sum(data),
    mean: mean(data),
    min: normalizeZero(sorted[0]!),
    max: normalizeZero(sorted[sorted.length - 1]!),
    median: percentile(sorted, 50),
    p25: percentile(sorted, 25),
    p75: percentile(sorted, 75),
    stddev: variance === null ? null : Math.sqrt(variance),
    variance,
  };
}

function isSafe(value: bigint): boolean {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER);
}

/** JSON has no -0; keep results from printing as 0 but comparing as -0. */
function normalizeZero(value: number): number {
  return value === 0 ? 0 : value;
}
