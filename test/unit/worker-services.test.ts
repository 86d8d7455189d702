import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { runWork } from '../../src/cli/commands/work.ts';
import { ManualClock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import { newTask, type TaskInput } from '../../src/core/new-task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { delayTask } from '../../src/tasks/builtin/delay-task.ts';
import { defineTask } from '../../src/tasks/define-task.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { Worker } from '../../src/worker/worker.ts';
import { testDatabases } from '../helpers/databases.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workerTestBench } from '../helpers/worker-test-bench.ts';

interface LogLine {
  level: string;
  obj: object;
  msg?: string;
}

/** Collects log lines so a test can read them. */
function recordingLogger(lines: LogLine[]): Logger {
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

/** The real engine, except that its first taskClaim throws (synchronously, as a bug would) instead of claiming. */
function claimThrowsOnce(engine: Engine): Engine {
  let thrown = false;
  return new Proxy(engine, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key === 'taskClaim') {
        return (p: Parameters<Engine['taskClaim']>[0]) => {
          if (!thrown) {
            thrown = true;
            throw new Error('claim exploded');
          }
          return target.taskClaim(p);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const PROCESS_EVENTS = ['unhandledRejection', 'uncaughtException', 'SIGTERM', 'SIGINT'] as const;
const listenerCounts = () => PROCESS_EVENTS.map((event) => process.listenerCount(event));

describe.each(testDatabases)('worker services on $kind', ({ create }) => {
  const bench = workerTestBench(create);

  const insertAt = (clock: ManualClock, inputs: TaskInput[]) => bench.engine.taskInsertMany({ tasks: inputs.map((input) => newTask(input, clock.now())) });
  const completed = async (clock: ManualClock) => (await bench.engine.taskStats({ now: clock.now() })).byStatus.completed;

  it('a starting worker sends a change notification, so open dashboards list it at once', async () => {
    const engine = await bench.open();
    let heard = 0;
    const listening = await engine.changeListen({ onChange: () => (heard += 1) });
    try {
      await bench.start({ registry: new TaskRegistry().register(delayTask), config: { worker: { poll_interval_ms: 60_000 } } });
      await waitFor(() => heard > 0, { message: 'the change notification of the new worker' });
      expect((await engine.workerList()).length).toBe(1);
    } finally {
      await listening.close();
    }
  });

  it('a throw in the claim loop is logged, and the loop starts again after its backoff and claims', async () => {
    const engine = await bench.open();
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const lines: LogLine[] = [];
    const ran: number[] = [];
    const registry = new TaskRegistry().register(
      defineTask({ name: 'note', description: 'notes that it ran', payload: Type.Object({ n: Type.Integer() }), handler: async ({ n }) => void ran.push(n) }),
    );
    await insertAt(clock, [0, 1, 2].map((n) => ({ taskType: 'note', payload: { n } })));
    await bench.start({ engine: claimThrowsOnce(engine), registry, clock, logger: recordingLogger(lines), config: { worker: { poll_interval_ms: 60_000 } } });

    const crash = await waitFor(() => lines.find((line) => line.msg === 'could not claim tasks; retrying'), { message: 'the crash logged' });
    expect(crash).toMatchObject({ level: 'warn', obj: { err: expect.objectContaining({ message: 'claim exploded' }), failures: 1, retry_in_ms: 100 } });
    // The clock has not moved: the loop is still in its backoff, and nothing was claimed.
    expect(await completed(clock)).toBe(0);
    expect(ran).toEqual([]);

    clock.advance(100);
    await waitFor(async () => (await completed(clock)) === 3, { message: 'the three tasks, claimed after the restart' });
    expect(ran.sort()).toEqual([0, 1, 2]);
    expect(lines.some((line) => line.level === 'info' && line.msg === 'claiming works again')).toBe(true);
  });

  it('tells what happens to a task as typed events, in order', async () => {
    const engine = await bench.open();
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const worker = bench.track(new Worker({ engine, registry: new TaskRegistry().register(delayTask), clock, config: { worker: { poll_interval_ms: 60_000 } } }));
    const seen: string[] = [];
    worker.on('task-claimed', (running) => seen.push(`claimed ${running.task.currentAttempt}`));
    worker.on('task-started', () => seen.push('started'));
    worker.on('slot-freed', (heldMs) => seen.push(`slot freed after ${heldMs} ms`));
    worker.on('task-finished', (running, outcome) => seen.push(`finished ${running.task.id === task!.task.id ? 'it' : '?'}: ${outcome.kind}`));
    await worker.start();
    const [task] = await insertAt(clock, [{ taskType: 'delay_task', payload: { delay_ms: 0 } }]);
    await waitFor(() => seen.length === 4, { message: 'four events' });
    // A completion frees its slot before it is written; the clock did not move, so it held it 0 ms.
    expect(seen).toEqual(['claimed 1', 'started', 'slot freed after 0 ms', 'finished it: completed']);
  });

  it('a cancel request reaches the running handler with the lease heartbeat: the next one on the clock', async () => {
    const engine = await bench.open();
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const aborted: string[] = [];
    const registry = new TaskRegistry().register(
      defineTask({
        name: 'wait_for_abort',
        description: 'runs until aborted',
        payload: Type.Object({}),
        handler: (_payload, context) =>
          new Promise((_resolve, reject) =>
            context.signal.addEventListener('abort', () => {
              aborted.push(String((context.signal.reason as Error).message));
              reject(context.signal.reason);
            }),
          ),
      }),
    );
    // lease_ms 3000: a heartbeat every 1000 ms of the clock, the first one 1000 ms after start.
    await bench.start({ registry, clock, config: { worker: { lease_ms: 3000, poll_interval_ms: 60_000 } } });
    const task = (await insertAt(clock, [{ taskType: 'wait_for_abort', payload: {} }]))[0]!.task;
    await waitFor(async () => (await engine.taskGet({ id: task.id }))?.status === 'running', { message: 'the task running' });
    expect((await engine.taskCancel({ id: task.id, now: clock.now() })).outcome).toBe('cancel_requested');

    clock.advance(999);
    expect(aborted).toEqual([]);
    clock.advance(1);
    await waitFor(async () => (await engine.taskGet({ id: task.id }))?.status === 'cancelled', { message: 'the task cancelled' });
    expect(aborted).toEqual(['the task was cancelled']);
  });

  it('an embedded worker, and runWork without processHandlers, leave the process handlers alone; with them, removes its own on stop', async () => {
    const engine = await bench.open();
    const before = listenerCounts();

    const worker = await bench.start({ registry: new TaskRegistry().register(delayTask) });
    expect(listenerCounts()).toEqual(before);
    await worker.stop();
    bench.track(null);
    expect(listenerCounts()).toEqual(before);

    const env = { CONVEYOR__DATABASE__URL: bench.db.url, CONVEYOR__LOG__LEVEL: 'silent' };
    for (const processHandlers of [false, true]) {
      const stop = new AbortController();
      const running = runWork({ env, registry: new TaskRegistry().register(delayTask), processHandlers, signal: stop.signal });
      await waitFor(async () => (await engine.workerList()).length === 1, { message: 'the runWork worker registered' });
      expect(listenerCounts()).toEqual(processHandlers ? before.map((count) => count + 1) : before);
      stop.abort();
      expect(await running).toBe(0);
      expect(await engine.workerList()).toEqual([]);
      expect(listenerCounts()).toEqual(before);
    }
  });
});
