import { describe, expect, it } from 'vitest';
import { PermanentTaskError } from '../../src/core/task-errors.ts';
import { dataProcessingTask } from '../../src/tasks/builtin/data-processing.ts';
import { exactSum, fsum } from '../../src/tasks/builtin/exact-sum.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { taskContext } from './builtin-context.ts';

type Payload = Parameters<typeof dataProcessingTask.handler>[0];
const run = async (payload: Payload) => ((await dataProcessingTask.handler(payload, taskContext())) as { result: unknown }).result;

describe('data_processing', () => {
  it("computes the guide's example: sum of 1..5 is 15", async () => {
    new TaskRegistry().register(dataProcessingTask).validatePayload('data_processing', { operation: 'sum', data: [1, 2, 3, 4, 5] });
    expect(await dataProcessingTask.handler({ operation: 'sum', data: [1, 2, 3, 4, 5] }, taskContext())).toEqual({ operation: 'sum', count: 5, result: 15 });
  });

  it('sums integers exactly past 2^53, as a decimal string', async () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(await run({ operation: 'sum', data: [max, max, 2] })).toBe((2n * BigInt(max) + 2n).toString());
    // Adding doubles one by one loses both 1s here; the exact answer keeps them.
    expect(2 ** 53 + 1 + 1).toBe(2 ** 53);
    expect(await run({ operation: 'sum', data: [2 ** 53, 1, 1] })).toBe('9007199254740994');
    // Back in the safe range the result is a number again.
    expect(await run({ operation: 'sum', data: [max, max, -max] })).toBe(max);
    expect(await run({ operation: 'sum', data: [1e20, 1, -1e20] })).toBe(1);
    // Many large terms whose running total leaves the safe range midway: BigInt gives the reference.
    const many = Array.from({ length: 100_000 }, (_, i) => (i % 3 === 0 ? -(2 ** 52) : 2 ** 52 + i));
    const reference = many.reduce((total, x) => total + BigInt(x), 0n);
    expect(await run({ operation: 'sum', data: many })).toBe(reference.toString());
  });

  it('rounds non-integer sums correctly (fsum)', async () => {
    expect(0.1 + 0.2 + 0.3).not.toBe(0.6);
    expect(await run({ operation: 'sum', data: [0.1, 0.2, 0.3] })).toBe(0.6);
    expect(await run({ operation: 'sum', data: [1e100, 1.5, -1e100] })).toBe(1.5);
    expect(fsum(Array.from({ length: 10 }, () => 0.1))).toBe(1);
    expect(exactSum([])).toBe(0);
    await expect(run({ operation: 'sum', data: [1.7e308, 1.7e308, 0.5] })).rejects.toBeInstanceOf(PermanentTaskError);
  });

  it('computes count, mean, min, max, median and percentiles', async () => {
    expect(await run({ operation: 'count', data: [3, 1, 2] })).toBe(3);
    expect(await run({ operation: 'mean', data: [1, 2, 3, 4] })).toBe(2.5);
    // Rounded once: the naive (0.1 + 0.2 + 0.3) / 3 is 0.19999999999999998.
    expect(await run({ operation: 'mean', data: [0.1, 0.2, 0.3] })).toBe(0.2);
    expect(await run({ operation: 'mean', data: [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] })).toBe(Number.MAX_SAFE_INTEGER);
    expect(await run({ operation: 'min', data: [3, -1, 2] })).toBe(-1);
    expect(await run({ operation: 'max', data: [3, -1, 2] })).toBe(3);
    expect(await run({ operation: 'median', data: [5, 1, 3] })).toBe(3);
    expect(await run({ operation: 'median', data: [4, 1, 3, 2] })).toBe(2.5);
    // NumPy's default (linear): sorted [2, 5, 7, 12, 18, 31], rank 0.9 × 5 = 4.5 → 18 + 0.5 × 13.
    expect(await run({ operation: 'percentile', data: [12, 5, 7, 31, 18, 2], p: 90 })).toBe(24.5);
    expect(await run({ operation: 'percentile', data: [12, 5, 7, 31, 18, 2], p: 0 })).toBe(2);
    expect(await run({ operation: 'percentile', data: [12, 5, 7, 31, 18, 2], p: 100 })).toBe(31);
    expect(await run({ operation: 'percentile', data: [1, 2, 3, 4, 5], p: 25 })).toBe(2);
  });

  it('computes population and sample standard deviation', async () => {
    expect(await run({ operation: 'stddev', data: [2, 4, 4, 4, 5, 5, 7, 9] })).toBe(2);
    expect(await run({ operation: 'stddev', data: [2, 4, 4, 4, 5, 5, 7, 9], sample: true })).toBeCloseTo(Math.sqrt(32 / 7), 15);
    // Two-pass: a large offset does not wreck the result as the one-pass formula would.
    expect(await run({ operation: 'stddev', data: [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16] })).toBeCloseTo(Math.sqrt(22.5), 9);
  });

  it('sorts numerically, lists unique values in first-seen order, and summarises', async () => {
    expect(await run({ operation: 'sort', data: [10, 9, 100, -1, 2.5] })).toEqual([-1, 2.5, 9, 10, 100]);
    expect(await run({ operation: 'sort', data: [10, 9, 100], order: 'desc' })).toEqual([100, 10, 9]);
    expect(await run({ operation: 'unique', data: [3, 1, 3, 2, 1, 0, -0] })).toEqual([3, 1, 2, 0]);
    expect(await run({ operation: 'stats', data: [2, 4, 4, 4, 5, 5, 7, 9] })).toEqual({
      count: 8, sum: 40, mean: 5, min: 2, max: 9, median: 4.5, p25: 4, p75: 5.5, stddev: 2, variance: 4,
    });
    expect(await run({ operation: 'stats', data: [] })).toMatchObject({ count: 0, sum: 0, mean: null });
    expect(await run({ operation: 'sum', data: [] })).toBe(0);
  });

  it('handles a million numbers (no argument-spreading stack overflow)', async () => {
    const data = Array.from({ length: 1_000_000 }, (_, i) => (i * 7919) % 1_000_003);
    expect(await run({ operation: 'max', data })).toBe(data.reduce((a, b) => (a > b ? a : b)));
    expect(await run({ operation: 'min', data })).toBe(0);
    expect(await run({ operation: 'sum', data })).toBe(Number(data.reduce((total, x) => total + BigInt(x), 0n)));
  });

  it('fails permanently when an operation has no answer', async () => {
    await expect(run({ operation: 'mean', data: [] })).rejects.toBeInstanceOf(PermanentTaskError);
    await expect(run({ operation: 'median', data: [] })).rejects.toThrow(/at least one number/);
    await expect(run({ operation: 'percentile', data: [1, 2] })).rejects.toThrow(/payload.p/);
    await expect(run({ operation: 'stddev', data: [1], sample: true })).rejects.toThrow(/at least two/);
  });

  it('validates the payload: known operations, numbers only, bounded', () => {
    const registry = new TaskRegistry().register(dataProcessingTask);
    expect(() => registry.validatePayload('data_processing', { operation: 'eval', data: [1] })).toThrow();
    expect(() => registry.validatePayload('data_processing', { operation: 'sum', data: [1, '2'] })).toThrow();
    expect(() => registry.validatePayload('data_processing', { operation: 'sum', data: [1], extra: true })).toThrow();
    expect(() => registry.validatePayload('data_processing', { operation: 'percentile', data: [1], p: 101 })).toThrow();
    for (const example of dataProcessingTask.examples ?? []) registry.validatePayload('data_processing', example);
  });
});
