import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { newTask, type TaskInput } from '../../src/core/new-task.ts';
import type { TaskRecord } from '../../src/core/task.ts';
import type { Engine } from '../../src/store/engine.ts';
import type { Outcome } from '../../src/worker/outcome.ts';
import { Producer } from '../../src/worker/producer.ts';
import type { RunningTask } from '../../src/worker/running-task.ts';
import { TaskSlots } from '../../src/worker/task-slots.ts';
import { WorkerEventEmitter } from '../../src/worker/worker-events.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { openTestEngine } from '../helpers/task-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';

const LEASE_MS = 30_000;

/** A producer the test drives claim by claim (runOnce), its loop never started: nothing claims behind the test's back. */
class SteppedProducer extends Producer {
  halted = false;

  override get stopping(): boolean {
    return this.halted;
  }
}
const COMPLETED: Outcome = Object.freeze({ kind: 'completed', output: null });

/**
 * The producer's run-alone rule (issue 14), step by step on a manual clock against a real engine: a
 * task a started attempt of which was lost with its worker runs alone. The producer hands back what
 * else it claimed, claims and starts nothing until its running tasks end, records the task's start,
 * runs it, and resumes once it ended. Handlers are played by the test: a task "ends" when the test
 * frees its slot and says it finished, as the worker does.
 */
describe.each(testDatabases)('Producer: a rescued task runs alone, on $kind', ({ create }) => {
  let db: TestDatabase | undefined;
  let engine: Engine;
  let producer: SteppedProducer | undefined;
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));

  afterEach(async () => {
    if (producer) producer.halted = true;
    producer = undefined;
    await engine?.close();
    await db?.drop();
    db = undefined;
  });

  async function setUp(concurrency: number) {
    db = create();
    engine = await openTestEngine(db);
    const events = new WorkerEventEmitter((error) => {
      throw error;
    });
    const slots = new TaskSlots({ concurrency, finishingAllowance: concurrency, clock, events });
    const started: RunningTask[] = [];
    // The handler "runs" until the test finishes it (finish below); its start time is taken as the worker does.
    events.on('task-started', (running) => {
      running.start(clock.nowMs(), async () => {});
      started.push(running);
    });
    producer = new SteppedProducer({
      engine, clock, logger: silentLogger, events, slots, breakers: { isOpen: () => false },
      workerId: 'w-1', taskTypes: ['delay_task'], leaseMs: LEASE_MS, pollIntervalMs: 1000,
    });
    /** The handler of `running` returned and its completion is written: as Worker#execute does. */
    const finish = (running: RunningTask) => {
      slots.handOver(running);
      slots.written(running);
      events.emit('task-finished', running, COMPLETED);
    };
    /** Resolves when the task with this id starts (its slot taken). */
    const startOf = (id: string) =>
      new Promise<RunningTask>((resolve) => {
        const off = events.on('task-started', (running) => {
          if (running.task.id !== id) return;
          off();
          resolve(running);
        });
      });
    return { producer, slots, started, finish, startOf };
  }

  const insert = async (input: Partial<TaskInput> = {}): Promise<TaskRecord> =>
    (await engine.taskInsert({ task: newTask({ taskType: 'delay_task', payload: { delay_ms: 0 }, ...input }, clock.now()) })).task;

  /** A task whose started attempt was lost with its worker (rescue 1): claimed by a dead worker with a short lease, then rescued. */
  async function rescuedTask(): Promise<TaskRecord> {
    const task = await insert({ priority: 'critical' });
    const [claimed] = await engine.taskClaim({ workerId: 'w-dead', taskTypes: ['delay_task'], limit: 1, now: clock.now(), leaseMs: 1000, startNow: 1 });
    expect(claimed!.id).toBe(task.id);
    clock.advance(1001);
    expect((await engine.taskRescueExpired({ now: clock.now(), maxRescues: 3, limit: 10 })).retried).toEqual([task.id]);
    return task;
  }

  it('waits for the running tasks to end, records the start, runs it alone, then resumes', async () => {
    const { producer, started, finish, startOf } = await setUp(3);
    const [first, second] = [await insert(), await insert()];
    expect(await producer.runOnce()).toBe(2);
    expect(started.map((running) => running.task.id).sort()).toEqual([first!.id, second!.id].sort());

    const poison = await rescuedTask();
    const later = [await insert(), await insert()];
    // One slot free: the claim takes the rescued task (critical, first in line), which must wait.
    expect(await producer.runOnce()).toBe(1);
    expect(producer.aloneTask?.task.id).toBe(poison.id);
    expect(started).toHaveLength(2);
    // Nothing more is claimed while it waits, though a slot is free and tasks are due.
    expect(await producer.runOnce()).toBe(0);

    finish(started[0]!);
    expect(await producer.runOnce()).toBe(0);
    expect(started).toHaveLength(2);

    const poisonStarts = startOf(poison.id);
    finish(started[1]!);
    const running = await poisonStarts;
    expect(running.task).toMatchObject({ rescueCount: 1, startRecorded: false });
    // Its start is written before its handler runs: lost now, it counts (rescue 2).
    expect(await engine.taskGet({ id: poison.id })).toMatchObject({ status: 'running', startedAt: clock.now(), workerId: 'w-1' });

    // Alone while it runs: two slots free, two tasks due, nothing claimed.
    expect(await producer.runOnce()).toBe(0);
    expect(started).toHaveLength(3);

    finish(running);
    expect(producer.aloneTask).toBeNull();
    expect(await producer.runOnce()).toBe(2);
    expect(started.slice(3).map((r) => r.task.id).sort()).toEqual(later.map((task) => task.id).sort());
  });

  it('hands back, free, the tasks claimed with it', async () => {
    const { producer, started, startOf } = await setUp(3);
    const poison = await rescuedTask();
    const innocents = [await insert(), await insert()];
    const poisonStarts = startOf(poison.id);
    expect(await producer.runOnce()).toBe(3);
    await poisonStarts;
    expect(started.map((running) => running.task.id)).toEqual([poison.id]);
    for (const task of innocents) {
      const back = await waitFor(async () => {
        const stored = await engine.taskGet({ id: task.id });
        return stored?.status === 'pending' ? stored : undefined;
      }, { message: `innocent ${task.id} handed back` });
      expect(back).toMatchObject({ currentAttempt: 0, rescueCount: 0, attempts: [], workerId: null });
    }
  });

  it('lets a task whose lease was lost before its start was written start only once its start is written', async () => {
    const { producer, started, startOf } = await setUp(2);
    // Claimed ahead by a worker that died before writing its start: an unstarted loss, free.
    const task = await insert();
    await engine.taskClaim({ workerId: 'w-dead', taskTypes: ['delay_task'], limit: 1, now: clock.now(), leaseMs: 1000, startNow: 0 });
    clock.advance(1001);
    await engine.taskRescueExpired({ now: clock.now(), maxRescues: 3, limit: 10 });
    expect(await engine.taskGet({ id: task.id })).toMatchObject({ status: 'pending', currentAttempt: 0, rescueCount: 0 });

    const other = await insert();
    const starts = startOf(task.id);
    expect(await producer.runOnce()).toBe(2);
    const running = await starts;
    expect(running.task).toMatchObject({ unstartedLosses: 1, rescueCount: 0, startRecorded: false });
    // Not alone: the other task runs beside it.
    expect(producer.aloneTask).toBeNull();
    expect(started.map((r) => r.task.id)).toContain(other.id);
    expect((await engine.taskGet({ id: task.id }))!.startedAt).toEqual(clock.now());
  });

  it('records the start of a task claimed ahead shortly after it starts, only if it still runs then', async () => {
    const { producer, started, finish } = await setUp(1);
    await insert();
    expect(await producer.runOnce()).toBe(1);
    // It ended at once: the producer now claims ahead.
    finish(started[0]!);
    const claimedAt = clock.now();
    for (let n = 0; n < 3; n++) await insert();
    expect(await producer.runOnce()).toBe(3);
    // One slot: the first counts as started at claim, the other two wait in the queue.
    expect(started.slice(1).map((r) => r.task.startRecorded)).toEqual([true]);
    expect(producer.queuedCount).toBe(2);

    // A slot frees and the next starts at once (synchronously); it ends before its record is due.
    clock.advance(10);
    finish(started[1]!);
    const quick = started[2]!;
    expect(quick.task.startRecorded).toBe(false);
    clock.advance(10);
    finish(quick);
    // The last one starts now and still runs when the record is due.
    const slow = started[3]!;
    const slowStartedAt = clock.now();
    clock.advance(200);
    await waitFor(async () => ((await engine.taskGet({ id: slow.task.id }))!.startedAt?.getTime() === slowStartedAt.getTime() ? true : undefined), {
      message: 'the start of the task still running recorded',
    });
    expect((await engine.taskGet({ id: quick.task.id }))!.startedAt).toEqual(claimedAt);
  });
});
