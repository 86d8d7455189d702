import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { defineTask } from '../../src/tasks/define-task.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { MAX_ERROR_BYTES, sanitizeErrorText, sanitizeOutput, sanitizeText } from '../../src/worker/sanitize-outcome.ts';
import type { Worker } from '../../src/worker/worker.ts';
import { isTransientWriteError } from '../../src/worker/write-errors.ts';
import { ConveyorError, ERROR_CODES } from '../../src/core/errors.ts';
import { testDatabases } from '../helpers/databases.ts';
import { rawExec } from '../helpers/raw-exec.ts';
import { insertTasks } from '../helpers/task-fixtures.ts';
import { workerTestBench } from '../helpers/worker-test-bench.ts';

describe('outcome sanitising', () => {
  it('removes NUL, replaces lone surrogates, keeps valid pairs, and leaves clean values untouched', () => {
    expect(sanitizeText('a\u0000b')).toBe('ab');
    expect(sanitizeText('x\uD800y\uDC00z')).toBe('x\uFFFDy\uFFFDz');
    expect(sanitizeText('emoji 😀')).toBe('emoji 😀');
    const clean = { a: ['b', 1, null, { c: true }] };
    expect(sanitizeOutput(clean)).toBe(clean);
    expect(sanitizeOutput({ 'k\u0000': ['v\u0000', { deep: 'x\u0000' }] })).toEqual({ k: ['v', { deep: 'x' }] });
  });

  it('caps an error text at 8 KB of UTF-8', () => {
    const long = sanitizeErrorText('é'.repeat(20_000));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_ERROR_BYTES);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('outcome write errors', () => {
  it('retries what passes (unavailable, serialization failure, deadlock), not what the database refuses', () => {
    const database = (sqlstate: string) => new ConveyorError(ERROR_CODES.DATABASE, `PostgreSQL error: ${sqlstate}`, { details: { sqlstate } });
    expect(isTransientWriteError(new ConveyorError(ERROR_CODES.DATABASE_UNAVAILABLE, 'PostgreSQL is unavailable: terminating connection due to administrator command'))).toBe(true);
    expect(isTransientWriteError(database('40001'))).toBe(true);
    expect(isTransientWriteError(database('40P01'))).toBe(true);
    expect(isTransientWriteError(database('08006'))).toBe(true);
    expect(isTransientWriteError(database('22P05'))).toBe(false); // unsupported Unicode escape (NUL in jsonb)
    expect(isTransientWriteError(new ConveyorError(ERROR_CODES.VALIDATION, 'output: too large'))).toBe(false);
    expect(isTransientWriteError(new RangeError('Invalid time value'))).toBe(false);
  });
});

/** A handler whose outcome an engine would refuse as it is must still end its task: never left `running`. */
describe.each(testDatabases)('outcome writes the database refuses, on $kind', ({ create }) => {
  const bench = workerTestBench(create, { finishTimeoutMs: 20_000 });
  const finished = bench.finished;

  const registry = () =>
    new TaskRegistry().register(
      defineTask({
        name: 'nul_output',
        description: 'returns an output holding NUL characters and a lone surrogate',
        payload: Type.Object({}),
        async handler() {
          return { text: 'before\u0000after', list: ['\u0000', 'lone \uD800'], 'key\u0000': 1 };
        },
      }),
      defineTask({
        name: 'nul_error',
        description: 'throws an error whose message holds NUL and is huge',
        payload: Type.Object({}),
        async handler() {
          throw new Error(`bad\u0000byte ${'x'.repeat(50_000)}`);
        },
      }),
      defineTask({
        name: 'plain_fail',
        description: 'fails',
        payload: Type.Object({}),
        async handler() {
          throw new Error('plain failure');
        },
      }),
    );

  const start = (): Promise<Worker> => bench.start({ registry: registry(), config: { worker: { poll_interval_ms: 50, lease_ms: 60_000 } } });

  it('an output with NUL and lone surrogates is stored without them: completed', async () => {
    await start();
    const [task] = await insertTasks(bench.engine, [{ taskType: 'nul_output', payload: {} }]);
    const done = await finished(task!.id);
    expect(done.status).toBe('completed');
    expect(done.output).toEqual({ text: 'beforeafter', list: ['', 'lone \uFFFD'], key: 1 });
  });

  it('an error message with NUL is stored without it, capped at 8 KB', async () => {
    await start();
    const [task] = await insertTasks(bench.engine, [{ taskType: 'nul_error', payload: {}, retryStrategy: { type: 'fixed', interval_ms: 0, jitter: 0, max_attempts: 1 } }]);
    const done = await finished(task!.id);
    expect(done.status).toBe('failed');
    expect(done.lastError).toMatch(/^badbyte x+…$/);
    expect(Buffer.byteLength(done.lastError!)).toBeLessThanOrEqual(MAX_ERROR_BYTES);
  });

  it('a failure the row cannot take (its retry strategy is unreadable) ends in the dead letter with both errors', async () => {
    await (await start()).stop({ graceMs: 0 });
    const [task] = await insertTasks(bench.engine, [{ taskType: 'plain_fail', payload: {} }]);
    await rawExec(bench.db, `UPDATE tasks SET retry_strategy = '{"type":"bogus"}' WHERE id = '${task!.id}'`);
    await start();
    const done = await finished(task!.id);
    expect(done.status).toBe('failed');
    expect(done.lastError).toMatch(/^plain failure \(and the failure could not be recorded for a retry: .+\)$/);
  });
});
