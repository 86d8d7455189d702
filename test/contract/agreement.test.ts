import { expect, it } from 'vitest';
import { ConveyorError } from '../../src/core/errors.ts';
import { newTask } from '../../src/core/new-task.ts';
import { createEngine } from '../helpers/create-engine.ts';
import { rawExec } from '../helpers/raw-exec.ts';
import { describeEachEngine, leaseOf } from './engine-fixture.ts';

/** A ConveyorError CONVEYOR_VALIDATION that names `field`: what the API turns into a 400. */
async function expectValidation(call: Promise<unknown>, field: string): Promise<void> {
  const error = await call.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ConveyorError);
  expect(error).toMatchObject({ code: 'CONVEYOR_VALIDATION', field });
}

/**
 * Behaviour where the engines once disagreed (issue 13): each case is the rule both now follow.
 */
describeEachEngine('engines agree', (f) => {
  it('refuses a list page size outside 1..1000 instead of clamping it', async () => {
    const { engine, insert } = f();
    await insert();
    for (const limit of [0, -1, 1001, 5000, 1.5]) await expectValidation(engine.taskList({ limit }), 'limit');
    expect((await engine.taskList({ limit: 1000 })).tasks).toHaveLength(1);
  });

  it('refuses a pause or a limit by a user id that is no UUID, naming the field', async () => {
    const { engine, clock } = f();
    await expectValidation(engine.typePause({ taskType: 'email', now: clock.now(), pausedBy: 'not-a-uuid', reason: null }), 'paused_by');
    await expectValidation(engine.typeLimitSet({ taskType: 'email', maxRunning: 2, now: clock.now(), by: 'not-a-uuid' }), 'updated_by');
    expect(await engine.typePauseList()).toEqual([]);
    expect(await engine.typeLimitList()).toEqual([]);
  });

  it('refuses a user whose id is no UUID', async () => {
    const { engine, clock } = f();
    await expectValidation(engine.userInsert({ user: { id: 'user-1', username: 'ann', email: 'ann@example.com', passwordHash: 'x', role: 'user', createdAt: clock.now() } }), 'id');
    expect(await engine.userCount({})).toBe(0);
  });

  it('returns inserted tasks that share no object with the caller', async () => {
    const { engine, clock } = f();
    const payload = { to: 'ann@example.com', tags: ['a'] };
    const metadata = { source: 'test' };
    const [one] = [(await engine.taskInsert({ task: newTask({ taskType: 'email', payload, metadata }, clock.now()) })).task];
    const [many] = (await engine.taskInsertMany({ tasks: [newTask({ taskType: 'email', payload, metadata }, clock.now())] })).map((r) => r.task);
    for (const task of [one!, many!]) {
      expect(task.payload).toEqual(payload);
      expect(task.payload).not.toBe(payload);
      expect(task.metadata).not.toBe(metadata);
      (task.payload as { tags: string[] }).tags.push('changed by the caller');
    }
    expect(payload.tags).toEqual(['a']);
    expect((await engine.taskGet({ id: one!.id }))!.payload).toEqual({ to: 'ann@example.com', tags: ['a'] });
  });

  it('words the rescue of a task whose worker is unknown the same way', async () => {
    const { engine, clock, db, insert, claim } = f();
    const task = await insert({ maxAttempts: 5 });
    await claim(1, 'worker-a');
    await rawExec(db, `UPDATE tasks SET worker_id = NULL WHERE id = '${task.id}'`);
    clock.advance(30_001);
    expect(await engine.taskRescueExpired({ now: clock.now(), maxRescues: 3, limit: 10 })).toEqual({ retried: [task.id], deadLettered: [], cancelled: [] });
    expect((await engine.taskGet({ id: task.id }))!.lastError).toBe('lease expired: worker unknown stopped renewing while the handler ran (rescue 1 of max 3)');
  });

  it('writes the completions still waiting when it is closed', async () => {
    const { engine, clock, db, insertMany, claim } = f();
    const tasks = await insertMany(5);
    const claimed = await claim(5);
    const completions = claimed.map((task) => engine.taskComplete({ lease: leaseOf(task), output: { done: task.id }, now: clock.now() }));
    await engine.close();
    expect(await Promise.all(completions)).toEqual([true, true, true, true, true]);
    const reopened = createEngine(db.url);
    try {
      for (const task of tasks) expect(await reopened.taskGet({ id: task.id })).toMatchObject({ status: 'completed', output: { done: task.id } });
    } finally {
      await reopened.close();
    }
  });
});
