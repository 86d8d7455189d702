import { expect, it } from 'vitest';
import type { Logger } from '../../src/core/logger.ts';
import { TASK_STATUSES, type TaskRecord } from '../../src/core/task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { Pruner } from '../../src/worker/maintenance/pruner.ts';
import { listAllTasks } from '../helpers/task-fixtures.ts';
import { describeEachEngine, type EngineFixture, leaseOf } from './engine-fixture.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const OWNER = '0190a4c2-0000-7000-8000-0000000000aa';
const PAYLOAD = { text: 'x'.repeat(50) };

/** Log lines a Pruner wrote. */
function recordingLogger(lines: { msg: string; fields: object }[]): Logger {
  const log = (fields: object, msg?: string) => void lines.push({ msg: msg ?? '', fields });
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

/** The real engine, its prune calls advancing the clock (a batch that takes `ms`): no sleeping. */
function slowPrunes(engine: Engine, advance: () => void): Engine {
  return new Proxy(engine, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (key !== 'taskPrune') return value;
      return async (p: { finishedBefore: Date; limit: number }) => {
        const deleted = await target.taskPrune(p);
        advance();
        return deleted;
      };
    },
  });
}

describeEachEngine('pruning', (f) => {
  /** Runs `count` tasks of type email to `outcome` at the clock's now; returns them. */
  async function finish(fx: EngineFixture, count: number, outcome: 'completed' | 'failed' | 'cancelled', createdBy?: string): Promise<TaskRecord[]> {
    const { engine, clock, insertMany, claim } = fx;
    const tasks = await insertMany(count, { taskType: 'email', maxAttempts: 1, payload: PAYLOAD, ...(createdBy ? { createdBy } : {}) });
    if (outcome === 'cancelled') {
      for (const task of tasks) await engine.taskCancel({ id: task.id, now: clock.now() });
      return tasks;
    }
    const claimed = await claim(count, 'w', ['email']);
    expect(claimed).toHaveLength(count);
    for (const task of claimed) {
      if (outcome === 'completed') await engine.taskComplete({ lease: leaseOf(task), output: null, now: clock.now() });
      else await engine.taskFail({ lease: leaseOf(task), error: 'boom', permanent: true, now: clock.now() });
    }
    return tasks;
  }

  /** The stats' counts against a direct count of every task listed. */
  async function expectStatsMatchTasks(fx: EngineFixture, createdBy?: string) {
    const tasks = (await listAllTasks(fx.engine)).filter((task) => createdBy === undefined || task.createdBy === createdBy);
    const stats = await fx.engine.taskStats({ now: fx.clock.now(), ...(createdBy ? { createdBy } : {}) });
    const byStatus = Object.fromEntries(TASK_STATUSES.map((status) => [status, tasks.filter((task) => task.status === status).length]));
    expect(stats.byStatus).toEqual(byStatus);
    expect(stats.total).toBe(tasks.length);
    const byType: Record<string, Record<string, number>> = {};
    for (const task of tasks) (byType[task.taskType] ??= {})[task.status] = (byType[task.taskType]?.[task.status] ?? 0) + 1;
    expect(stats.byType).toEqual(byType);
  }

  it('deletes exactly the finished tasks older than the cut, over several batches, keeping task_counts and owner_usage right', async () => {
    const fx = f();
    const { engine, clock } = fx;
    const start = clock.nowMs(); // 12:00
    await engine.userInsert({ user: { id: OWNER, username: 'pru', email: 'pru@example.com', passwordHash: 'x', role: 'user', createdAt: clock.now() } });
    // Old: some counted by the rollup already (before rolled_through), some not.
    const old = [
      ...(await finish(fx, 6, 'completed', OWNER)),
      ...(await finish(fx, 4, 'failed')),
      ...(await finish(fx, 3, 'cancelled', OWNER)),
    ];
    clock.set(start + 5 * MINUTE);
    old.push(...(await finish(fx, 5, 'completed', OWNER)));
    clock.set(start + 6 * MINUTE + 30_000);
    old.push(...(await finish(fx, 3, 'failed', OWNER)));
    clock.set(start + 7 * MINUTE + 30_000);
    expect(await engine.taskRollup({ now: clock.now() })).toMatchObject({ rolledThrough: new Date(start + 6 * MINUTE) });
    // Never finished: waiting and running tasks as old as any.
    const waiting = await fx.insert({ taskType: 'webhook', createdBy: OWNER, payload: PAYLOAD, scheduledAt: new Date(start) });
    const running = await fx.insert({ taskType: 'report', payload: PAYLOAD });
    expect(await fx.claim(1, 'w', ['report'])).toHaveLength(1);
    // Young: finished after the cut.
    clock.set(start + HOUR);
    const young = [...(await finish(fx, 4, 'completed', OWNER)), ...(await finish(fx, 2, 'failed'))];

    const ownerTasksBefore = (await listAllTasks(engine)).filter((task) => task.createdBy === OWNER).length;
    const bytesBefore = (await engine.ownerUsage({ ownerId: OWNER, since: clock.now() })).payloadBytes;
    const bytesPerTask = bytesBefore / ownerTasksBefore;
    expect(Number.isInteger(bytesPerTask) && bytesPerTask > 0).toBe(true);

    // Retention 30 minutes at 13:00: the cut is 12:30. 21 old tasks in batches of 4: six batches.
    const pruner = new Pruner({ engine, clock, logger: recordingLogger([]), retentionMs: 30 * MINUTE, batch: 4 });
    expect(await pruner.runOnce()).toBe(old.length);
    expect(await pruner.runOnce()).toBe(0);
    await pruner.idle();

    const left = await listAllTasks(engine);
    expect(left.map((task) => task.id).sort()).toEqual([...young.map((task) => task.id), waiting.id, running.id].sort());
    await expectStatsMatchTasks(fx);
    await expectStatsMatchTasks(fx, OWNER);
    // The rollup's next minutes add only what finished since: the counts stay right after it too.
    clock.set(start + HOUR + 2 * MINUTE);
    await engine.taskRollup({ now: clock.now() });
    await engine.taskRollup({ now: clock.now() });
    await expectStatsMatchTasks(fx);
    await expectStatsMatchTasks(fx, OWNER);
    const ownerTasksAfter = left.filter((task) => task.createdBy === OWNER).length;
    expect((await engine.ownerUsage({ ownerId: OWNER, since: clock.now() })).payloadBytes).toBe(bytesPerTask * ownerTasksAfter);
  });

  it('stops a run when its time budget is spent, and the next run continues', async () => {
    const fx = f();
    const { engine, clock } = fx;
    const start = clock.nowMs();
    const old = await finish(fx, 23, 'completed');
    clock.set(start + 2 * HOUR);
    const young = await finish(fx, 2, 'completed');
    const lines: { msg: string; fields: object }[] = [];
    // Each batch of 5 takes 10 s on this clock; the budget is 25 s: three batches per run.
    const pruner = new Pruner({ engine: slowPrunes(engine, () => clock.advance(10_000)), clock, logger: recordingLogger(lines), retentionMs: HOUR, batch: 5, budgetMs: 25_000 });
    expect(await pruner.runOnce()).toBe(15);
    expect(lines.at(-1)).toMatchObject({ msg: expect.stringMatching(/time budget spent/), fields: { deleted: 15, duration_ms: 30_000 } });
    expect(await pruner.runOnce()).toBe(8);
    expect(lines.at(-1)).toMatchObject({ msg: 'pruned finished tasks', fields: { deleted: 8 } });
    expect(await pruner.runOnce()).toBe(0);
    await pruner.idle();
    const left = (await listAllTasks(engine)).map((task) => task.id);
    expect(left.sort()).toEqual(young.map((task) => task.id).sort());
    expect(old).toHaveLength(23);
  });

  it('vacuums the tasks table after a large prune (PostgreSQL), in the background, and not after a small one', async () => {
    const fx = f();
    const { engine, clock } = fx;
    const start = clock.nowMs();
    await finish(fx, 1100, 'completed');
    clock.set(start + 10 * MINUTE);
    await finish(fx, 10, 'completed');
    clock.set(start + 2 * HOUR);
    const vacuums: boolean[] = [];
    const counting = new Proxy(engine, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (key !== 'taskVacuum') return value;
        return async () => {
          const ran = await target.taskVacuum();
          vacuums.push(ran);
          return ran;
        };
      },
    });
    const retention = (2 * HOUR) - 5 * MINUTE; // the cut at 12:05: the 1,100 go, the 10 stay
    const pruner = new Pruner({ engine: counting, clock, logger: recordingLogger([]), retentionMs: retention });
    expect(await pruner.runOnce()).toBe(1100);
    await pruner.idle();
    // SQLite has no table statistics to weigh the share by, and nothing to vacuum (its freelist is reused).
    expect(vacuums).toEqual(fx.db.kind === 'postgres' ? [true] : []);
    // A small prune (under 1,000 tasks, far from 100,000 since the last VACUUM) leaves it to autovacuum.
    clock.advance(10 * MINUTE);
    expect(await pruner.runOnce()).toBe(10);
    await pruner.idle();
    expect(vacuums).toHaveLength(fx.db.kind === 'postgres' ? 1 : 0);
    expect(await engine.taskStats({ now: clock.now() })).toMatchObject({ total: 0 });
  });
});
