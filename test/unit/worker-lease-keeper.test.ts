import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { newTask } from '../../src/core/new-task.ts';
import { createEngine } from '../helpers/create-engine.ts';
import type { Engine } from '../../src/store/engine.ts';
import { LeaseKeeper } from '../../src/worker/lease-keeper.ts';
import { RunningTask } from '../../src/worker/running-task.ts';
import { TaskAbortedError } from '../../src/worker/task-abort.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { openTestEngine } from '../helpers/task-fixtures.ts';

const LEASE_MS = 3000;
const HEARTBEAT_MS = 1000;

/** Lease renewal, step by step on a manual clock, against a real engine. */
describe.each(testDatabases)('LeaseKeeper on $kind', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));

  afterEach(async () => {
    await engine?.close();
    await db?.drop();
  });

  async function claimOne(workerId = 'w1'): Promise<RunningTask> {
    await engine.taskInsert({ task: newTask({ taskType: 'delay_task', payload: { delay_ms: 0 } }, clock.now()) });
    const [task] = await engine.taskClaim({ workerId, taskTypes: ['delay_task'], limit: 1, now: clock.now(), leaseMs: LEASE_MS });
    return new RunningTask(task!, workerId, clock.now().getTime(), LEASE_MS, silentLogger);
  }

  const keeperFor = (target: Engine, held: RunningTask[]) =>
    new LeaseKeeper({ engine: target, clock, logger: silentLogger, workerId: 'w1', leaseMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS, running: () => held });

  it('renews held leases, and aborts on a cancel request or a lost lease', async () => {
    db = create();
    engine = await openTestEngine(db);
    const kept = await claimOne();
    const cancelled = await claimOne();
    const stolen = await claimOne();
    const keeper = keeperFor(engine, [kept, cancelled, stolen]);

    clock.advance(1000);
    await keeper.runOnce();
    expect(kept.leaseValidUntil).toBe(clock.now().getTime() + LEASE_MS);
    expect(kept.signal.aborted).toBe(false);

    await engine.taskCancel({ id: cancelled.task.id, now: clock.now() });
    // The stolen one stops being renewed (say its worker hung) and is rescued after expiry.
    clock.advance(LEASE_MS + 1);
    const rescued = await engine.taskRescueExpired({ now: clock.now(), maxRescues: 3, limit: 10 });
    expect(rescued.retried).toEqual(expect.arrayContaining([kept.task.id, stolen.task.id]));
    // kept was rescued too: it was not renewed for a whole lease. Both are lost now.
    await keeper.runOnce();
    for (const running of [kept, stolen]) {
      expect(running.leaseLost).toBe(true);
      expect((running.signal.reason as TaskAbortedError).kind).toBe('lease_lost');
    }
    // The cancelled one's lease had expired as well; rescuing a cancel-requested task cancels it.
    expect((await engine.taskGet({ id: cancelled.task.id }))!.status).toBe('cancelled');
  });

  it('passes a cancel request to the handler while the lease holds', async () => {
    db = create();
    engine = await openTestEngine(db);
    const running = await claimOne();
    const keeper = keeperFor(engine, [running]);
    await engine.taskCancel({ id: running.task.id, now: clock.now() });
    await keeper.runOnce();
    expect(running.leaseLost).toBe(false);
    expect(running.signal.reason).toBeInstanceOf(TaskAbortedError);
    expect((running.signal.reason as TaskAbortedError).kind).toBe('cancelled');
  });

  it('when the database cannot be reached, aborts only the attempts whose lease runs out before the next try', async () => {
    db = create();
    engine = await openTestEngine(db);
    const early = await claimOne();
    clock.advance(1500);
    const late = await claimOne();
    // An engine that fails every call: this one is closed.
    const unreachable = createEngine(db.url);
    await unreachable.close();
    const keeper = keeperFor(unreachable, [early, late]);

    // early's lease ends at +3000, late's at +4500; now +2500, the next try at +3500.
    clock.advance(1000);
    await keeper.runOnce();
    expect(early.leaseLost).toBe(true);
    expect((early.signal.reason as TaskAbortedError).message).toMatch(/could not be renewed/);
    expect(late.signal.aborted).toBe(false);

    clock.advance(1000);
    await keeper.runOnce();
    expect(late.leaseLost).toBe(true);
  });
});
