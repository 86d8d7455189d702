import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { ConveyorError, ERROR_CODES } from '../../src/core/errors.ts';
import { newTask } from '../../src/core/new-task.ts';
import type { TaskRecord } from '../../src/core/task.ts';
import { PermanentTaskError, SnoozeTaskError } from '../../src/core/task-errors.ts';
import { delayTask } from '../../src/tasks/builtin/delay-task.ts';
import { defineTask } from '../../src/tasks/define-task.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { Worker } from '../../src/worker/worker.ts';
import type { PartialWorkerConfig } from '../../src/worker/worker-config.ts';
import { testDatabases } from '../helpers/databases.ts';
import { countingClaims, insertTasks } from '../helpers/task-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workerTestBench } from '../helpers/worker-test-bench.ts';

/** The Worker as a library, in this process, on a real engine: the paths that need no process tricks. */
describe.each(testDatabases)('Worker (library) on $kind', ({ create }) => {
  const bench = workerTestBench(create, { finishTimeoutMs: 15_000 });
  const finished = bench.finished;

  const startWorker = (registry: TaskRegistry, config: PartialWorkerConfig = {}): Promise<Worker> => bench.start({ registry, config });

  it('stores the output; a bad payload, a PermanentTaskError and a thrown non-Error are recorded, not fatal', async () => {
    const engine = await bench.open();
    const registry = new TaskRegistry().register(
      defineTask({
        name: 'echo',
        description: 'returns its payload and reports progress',
        payload: Type.Object({ n: Type.Integer() }),
        async handler(payload, context) {
          await context.progress({ percent: 50 });
          return { n: payload.n, attempt: context.attempt, key: context.idempotencyKey };
        },
      }),
      defineTask({
        name: 'refuse',
        description: 'fails permanently',
        payload: Type.Object({}),
        async handler() {
          throw new PermanentTaskError('the recipient does not exist');
        },
      }),
      defineTask({
        name: 'plain_function',
        description: 'a handler that is not async (as a JavaScript user may write one)',
        payload: Type.Object({ fail: Type.Boolean() }),
        handler: ((payload: { fail: boolean }) => {
          if (payload.fail) throw new TypeError('thrown synchronously');
          return { plain: true };
        }) as never,
      }),
      defineTask({
        name: 'throw_string',
        description: 'throws a string',
        payload: Type.Object({}),
        async handler() {
          throw 'not an Error object';
        },
      }),
    );
    const [ok, bad, refused, weird, plain, plainFail] = await insertTasks(engine, [
      { taskType: 'echo', payload: { n: 7 } },
      { taskType: 'echo', payload: { n: 'seven' } },
      { taskType: 'refuse', payload: {} },
      { taskType: 'throw_string', payload: {}, maxAttempts: 1 },
      { taskType: 'plain_function', payload: { fail: false } },
      { taskType: 'plain_function', payload: { fail: true }, maxAttempts: 1 },
    ]);
    await startWorker(registry);

    expect(await finished(ok!.id)).toMatchObject({ status: 'completed', output: { n: 7, attempt: 1, key: ok!.id }, progress: { percent: 50 } });
    const invalid = await finished(bad!.id);
    expect(invalid).toMatchObject({ status: 'failed', currentAttempt: 1 });
    expect(invalid.lastError).toMatch(/^invalid payload: payload\.n/);
    expect(await finished(refused!.id)).toMatchObject({ status: 'failed', currentAttempt: 1, lastError: 'the recipient does not exist' });
    expect(await finished(weird!.id)).toMatchObject({ status: 'failed', lastError: 'not an Error object' });
    expect(await finished(plain!.id)).toMatchObject({ status: 'completed', output: { plain: true } });
    expect(await finished(plainFail!.id)).toMatchObject({ status: 'failed', lastError: 'TypeError: thrown synchronously' });
    // None of these says anything about a dependency except the thrown string: one failure, still closed.
    expect((await engine.breakerGet({ taskType: 'refuse' }))?.state ?? 'closed').toBe('closed');
  });

  it('registers its task types and itself, and removes itself on stop', async () => {
    const w = await startWorker(new TaskRegistry().register(delayTask), { worker: { concurrency: 3 } });
    const engine = bench.engine;
    const types = await engine.typeList();
    expect(types.map((t) => t.name)).toEqual(['delay_task']);
    expect(types[0]).toMatchObject({ description: delayTask.description, timeoutMs: 300_000 });
    expect(types[0]!.payloadSchema).toMatchObject({ type: 'object', required: ['delay_ms'] });
    expect(types[0]!.examples).toEqual([{ delay_ms: 1000 }, { delay_ms: 500, fail_attempts: 2 }]);
    const workers = await engine.workerList();
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatchObject({ id: w.id, pid: process.pid, concurrency: 3, taskTypes: ['delay_task'] });
    await w.stop();
    expect(await engine.workerList()).toEqual([]);
  });

  it('refuses task_types it has no handler for', async () => {
    const engine = await bench.open();
    const build = () => new Worker({ engine, registry: new TaskRegistry().register(delayTask), config: { worker: { task_types: ['delay_task', 'nope'] } } });
    expect(build).toThrow(ConveyorError);
    try {
      build();
    } catch (error) {
      expect(error).toMatchObject({ code: ERROR_CODES.CONFIG, field: 'worker.task_types' });
    }
  });

  it('claims into free slots as they free: a slow task never holds back the others, and concurrency is never exceeded', async () => {
    let running = 0;
    let peak = 0;
    const registry = new TaskRegistry().register(
      defineTask({
        name: 'sleep',
        description: 'sleeps',
        payload: Type.Object({ ms: Type.Integer() }),
        async handler(payload, context) {
          running += 1;
          peak = Math.max(peak, running);
          try {
            await new Promise((resolve, reject) => {
              const timer = setTimeout(resolve, payload.ms);
              context.signal.addEventListener('abort', () => (clearTimeout(timer), reject(context.signal.reason)));
            });
          } finally {
            running -= 1;
          }
        },
      }),
    );
    const engine = await bench.open();
    const [slow, ...fast] = await insertTasks(engine, [{ taskType: 'sleep', payload: { ms: 10_000 } }, ...Array.from({ length: 20 }, () => ({ taskType: 'sleep', payload: { ms: 20 } }))]);
    await startWorker(registry, { worker: { concurrency: 3 } });
    for (const task of fast) expect((await finished(task.id)).status).toBe('completed');
    // All twenty went through the two other slots while the slow one kept running.
    expect((await engine.taskGet({ id: slow!.id }))!.status).toBe('running');
    expect(peak).toBe(3);
  });

  it('an idle worker polls at its interval, not in a loop, and an insert wakes it at once', async () => {
    const engine = await bench.open();
    const { engine: counting, claims } = countingClaims(engine);
    // The worker's time is a manual clock: its poll timer fires only when the test moves it.
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    await bench.start({ engine: counting, registry: new TaskRegistry().register(delayTask), clock, config: { worker: { poll_interval_ms: 300 } } });
    // The claim loop waits for its poll timer: the only one due 300 ms from now (the others are seconds away).
    const waitingForPoll = () => clock.timerDueTimes().includes(clock.nowMs() + 300);
    await waitFor(waitingForPoll, { message: 'the first claim, at start, then the wait for the poll' });
    expect(claims()).toBe(1);
    // One claim per interval: each 300 ms of the clock brings exactly one more.
    for (let polls = 1; polls <= 3; polls++) {
      clock.advance(300);
      await waitFor(() => claims() === 1 + polls && waitingForPoll(), { message: `poll ${polls}` });
    }

    // Without the clock moving, only the insert notification can make the task run.
    const [inserted] = await engine.taskInsertMany({ tasks: [newTask({ taskType: 'delay_task', payload: { delay_ms: 0 } }, clock.now())] });
    const done: TaskRecord = await finished(inserted!.task.id);
    expect(done.status).toBe('completed');
    // A claim or two for the insert (a notification may come twice), then waiting again: no loop of claims.
    await waitFor(waitingForPoll, { message: 'the wait for the poll, again' });
    expect(claims()).toBeLessThanOrEqual(6);
  });

  it('a handler that snoozes is run again later without spending an attempt, even its only one', async () => {
    const snoozes = new Map<string, number>();
    const registry = new TaskRegistry().register(
      defineTask({
        name: 'wait_for_report',
        description: 'snoozes twice, then finishes',
        payload: Type.Object({}),
        async handler(_payload, context) {
          const seen = snoozes.get(context.taskId) ?? 0;
          snoozes.set(context.taskId, seen + 1);
          if (seen < 2) throw new SnoozeTaskError(50, 'the report is not ready yet');
          return { ready: true, attempt: context.attempt };
        },
      }),
    );
    await startWorker(registry);
    const [task] = await insertTasks(bench.engine, [{ taskType: 'wait_for_report', payload: {}, maxAttempts: 1 }]);
    const done = await finished(task!.id);
    expect(done).toMatchObject({ status: 'completed', currentAttempt: 1, output: { ready: true, attempt: 1 } });
    expect(done.attempts.map((a) => a.outcome)).toEqual(['snoozed', 'snoozed', 'completed']);
    expect(snoozes.get(task!.id)).toBe(3);
  });
});
