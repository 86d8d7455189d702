import { Type } from '@sinclair/typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { newTask, type TaskInput } from '../../src/core/new-task.ts';
import type { TaskRecord } from '../../src/core/task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { defineTask } from '../../src/tasks/define-task.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { Worker } from '../../src/worker/worker.ts';
import type { PartialWorkerConfig } from '../../src/worker/worker-config.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { countingClaims, insertTasks, listAllTasks, openTestEngine } from '../helpers/task-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The worker's local queue (claims ahead of its free slots) and its wake-ups without polling, in this
 * process, on real engines.
 */
describe.each(testDatabases)('Worker prefetch and wake-ups on $kind', ({ create }) => {
  let db: TestDatabase | undefined;
  let engine: Engine;
  let worker: Worker | null = null;
  let openGate: () => void = () => {};

  afterEach(async () => {
    openGate();
    await worker?.stop({ graceMs: 0 });
    worker = null;
    await engine?.close();
    await db?.drop();
    db = undefined;
  });

  /** quick: returns at once and records that it ran. gate: waits until the test opens the gate (or an abort). */
  function registry(ran: string[], running = { now: 0, peak: 0 }): TaskRegistry {
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    return new TaskRegistry().register(
      defineTask({
        name: 'quick',
        description: 'returns at once',
        payload: Type.Object({ n: Type.Integer() }),
        async handler(_payload, context) {
          running.now += 1;
          running.peak = Math.max(running.peak, running.now);
          ran.push(context.taskId);
          await Promise.resolve();
          running.now -= 1;
        },
      }),
      defineTask({
        name: 'gate',
        description: 'waits for the test',
        payload: Type.Object({}),
        async handler(_payload, context) {
          await new Promise<void>((resolve, reject) => {
            void gate.then(resolve);
            context.signal.addEventListener('abort', () => reject(context.signal.reason));
          });
        },
      }),
      defineTask({
        name: 'fail_once',
        description: 'fails its first attempt',
        payload: Type.Object({}),
        async handler(_payload, context) {
          if (context.attempt === 1) throw new Error('first attempt fails');
          return { attempt: context.attempt };
        },
      }),
    );
  }

  async function start(tasks: TaskRegistry, config: PartialWorkerConfig, target: Engine = engine): Promise<Worker> {
    worker = new Worker({ engine: target, registry: tasks, config });
    await worker.start();
    return worker;
  }

  const completed = async () => (await engine.taskStats({ now: new Date() })).byStatus.completed;
  const finished = (id: string) =>
    waitFor(async () => {
      const task = await engine.taskGet({ id });
      return task && ['completed', 'failed', 'cancelled'].includes(task.status) ? task : undefined;
    }, { timeoutMs: 15_000, message: `task ${id} to finish` });

  /** A worker of concurrency 1 that knows its tasks are fast, then a gate task holding its slot with 20 quick ones queued behind it. */
  async function queueBehindGate(ran: string[]): Promise<{ gate: TaskRecord; queued: TaskRecord[] }> {
    db = create();
    engine = await openTestEngine(db);
    await start(registry(ran), { worker: { concurrency: 1 } });
    await insertTasks(engine, Array.from({ length: 100 }, (_, n) => ({ taskType: 'quick', payload: { n } })));
    await waitFor(async () => (await completed()) === 100, { message: 'the first hundred quick tasks' });
    const [gate, ...queued] = await insertTasks(engine, [
      { taskType: 'gate', payload: {}, priority: 'high' },
      ...Array.from({ length: 20 }, (_, n) => ({ taskType: 'quick', payload: { n } })),
    ]);
    // All 21 claimed: the gate in the slot, the others in the worker's queue (leased, so `running` in the store).
    await waitFor(async () => (await listAllTasks(engine, { status: ['running'] })).length === 21, { timeoutMs: 5000, message: 'the gate running and 20 tasks queued behind it' });
    return { gate: gate!, queued };
  }

  it('claims ahead while tasks are fast: few claims for many tasks, never more running than the concurrency', async () => {
    db = create();
    engine = await openTestEngine(db);
    const { engine: counting, claims } = countingClaims(engine);
    const ran: string[] = [];
    const running = { now: 0, peak: 0 };
    const tasks = await insertTasks(engine, Array.from({ length: 3000 }, (_, n) => ({ taskType: 'quick', payload: { n } })));
    await start(registry(ran, running), { worker: { concurrency: 4 } }, counting);
    await waitFor(async () => (await completed()) === tasks.length, { message: 'all 3000 tasks completed' });
    expect(new Set(ran).size).toBe(tasks.length);
    expect(ran).toHaveLength(tasks.length);
    expect(running.peak).toBeLessThanOrEqual(4);
    // Claiming only free slots would take at least 750 claims of 4.
    console.log(`[${db.kind}] 3000 quick tasks at concurrency 4: ${claims()} claims`);
    expect(claims()).toBeLessThan(150);
  });

  it('a queued task whose cancellation is requested ends cancelled without running', async () => {
    const ran: string[] = [];
    const { gate, queued } = await queueBehindGate(ran);
    const victim = queued[5]!;
    expect((await engine.taskCancel({ id: victim.id, now: new Date() })).outcome).toBe('cancel_requested');
    const cancelled = await finished(victim.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', currentAttempt: 0, attempts: [] });
    expect((await engine.taskGet({ id: gate.id }))!.status).toBe('running');
    openGate();
    for (const task of queued) if (task !== victim) expect(await finished(task.id)).toMatchObject({ status: 'completed', currentAttempt: 1 });
    expect(ran).not.toContain(victim.id);
    // Handed back or not, each ran once, as attempt 1, with nothing else in its history.
    for (const task of queued) if (task !== victim) expect((await engine.taskGet({ id: task.id }))!.attempts.map((a) => [a.attempt, a.outcome])).toEqual([[1, 'completed']]);
  });

  it('on shutdown, queued tasks go back unstarted: no attempt spent, none recorded', async () => {
    const ran: string[] = [];
    const { gate, queued } = await queueBehindGate(ran);
    await worker!.stop({ graceMs: 300 });
    worker = null;
    for (const task of queued) expect(await engine.taskGet({ id: task.id })).toMatchObject({ status: 'pending', currentAttempt: 0, workerId: null, attempts: [] });
    // The gate was running: aborted at the end of the grace and released, as before.
    expect(await engine.taskGet({ id: gate.id })).toMatchObject({ status: 'pending', currentAttempt: 0 });
    expect((await engine.taskGet({ id: gate.id }))!.attempts.map((a) => a.outcome)).toEqual(['released']);
  });

  /**
   * A worker on a manual clock: nothing is found by a poll (one a minute) or by time passing unless the
   * test moves the clock. `parkedUntil(at)` waits until the worker has a timer for `at` (the claim loop
   * waking for a due task), so that the clock is moved only once the worker knows.
   */
  async function startOnManualClock(clock: ManualClock): Promise<(at: number) => Promise<void>> {
    db = create();
    engine = await openTestEngine(db);
    worker = new Worker({ engine, registry: registry([]), clock, config: { worker: { poll_interval_ms: 60_000 } } });
    await worker.start();
    return async (at) => {
      await waitFor(() => clock.timerDueTimes().some((due) => due >= at && due <= at + 1), { message: `a timer for ${new Date(at).toISOString()}` });
    };
  }
  const insertAt = async (clock: ManualClock, input: TaskInput) => (await engine.taskInsertMany({ tasks: [newTask(input, clock.now())] })).map((result) => ({ task: result.task })) as [{ task: TaskRecord }];
  const statusOf = async (id: string) => (await engine.taskGet({ id }))!.status;

  it('a retry due in 2 s starts when due, with no poll to find it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const parkedUntil = await startOnManualClock(clock);
    const [{ task }] = await insertAt(clock, { taskType: 'fail_once', payload: {}, retryStrategy: { type: 'fixed', interval_ms: 2000, jitter: 0, max_attempts: 2 } });
    await waitFor(async () => (await statusOf(task.id)) === 'retrying', { message: 'the first attempt failed' });
    const retryAt = (await engine.taskGet({ id: task.id }))!.runAt.getTime();
    expect(retryAt).toBe(clock.nowMs() + 2000);
    await parkedUntil(retryAt);

    clock.advance(1999);
    expect(await statusOf(task.id)).toBe('retrying');
    clock.advance(2);
    const done = await finished(task.id);
    expect(done).toMatchObject({ status: 'completed', currentAttempt: 2 });
    // Started by the timer for its due time, not by a poll (the next one is a minute away).
    expect(done.attempts[1]!.startedAt!.getTime() - retryAt).toBeLessThanOrEqual(1);
  });

  it('a task scheduled 1.5 s ahead starts when due, with no poll to find it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const parkedUntil = await startOnManualClock(clock);
    const dueAt = clock.nowMs() + 1500;
    const [{ task }] = await insertAt(clock, { taskType: 'quick', payload: { n: 1 }, scheduledAt: new Date(dueAt) });
    expect(task.status).toBe('scheduled');
    // The insert woke the worker; its claim found nothing due and asked when the next task is.
    await parkedUntil(dueAt);

    clock.advance(1499);
    expect(await statusOf(task.id)).toBe('scheduled');
    clock.advance(2);
    const done = await finished(task.id);
    expect(done.status).toBe('completed');
    expect(done.attempts[0]!.startedAt!.getTime() - dueAt).toBeLessThanOrEqual(1);
  });
});
