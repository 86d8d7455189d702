import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentTaskError, Type, defineTask } from 'conveyor-tasks';
import { createTestConveyor, type TestConveyor } from 'conveyor-tasks/testing';
import { newTask } from '../../src/core/new-task.ts';

const calls: string[] = [];

const greet = defineTask({
  name: 'greet',
  description: 'says hello',
  payload: Type.Object({ name: Type.String() }),
  async handler(payload, context) {
    calls.push(`${payload.name}#${context.attempt}`);
    await context.progress({ percent: 100 });
    return { text: `hello ${payload.name}` };
  },
});

/** Fails its first attempt, then works: the real retry path, with a fast strategy given per task. */
const flaky = defineTask({
  name: 'flaky',
  description: 'fails once',
  payload: Type.Object({}),
  async handler(_payload, context) {
    if (context.attempt === 1) throw new Error('first attempt fails');
    return { attempt: context.attempt };
  },
});

const doomed = defineTask({
  name: 'doomed',
  description: 'never works',
  payload: Type.Object({}),
  async handler() {
    throw new PermanentTaskError('bad input, do not retry');
  },
});

const fastRetry = { type: 'fixed', interval_ms: 10, max_attempts: 3 };

let conveyor: TestConveyor | undefined;
afterEach(async () => {
  await conveyor?.close();
  conveyor = undefined;
});

describe('createTestConveyor', () => {
  it('runs enqueued tasks on a real worker over a temporary SQLite database', async () => {
    conveyor = await createTestConveyor({ tasks: [greet, flaky, doomed] });
    expect(conveyor.databaseUrl).toMatch(/^sqlite:.*conveyor\.db$/);
    const queued = await conveyor.enqueue('greet', { name: 'ada' }, { priority: 'high' });
    expect(queued.status).toBe('pending');
    const done = await conveyor.waitForTask(queued.id, { status: 'completed' });
    expect(done.output).toEqual({ text: 'hello ada' });
    expect(done.progress).toEqual({ percent: 100 });
    expect(calls).toContain('ada#1');

    const retried = await conveyor.enqueueAndWait('flaky', {}, { retryStrategy: fastRetry });
    expect(retried.currentAttempt).toBe(2);
    expect(retried.attempts.map((a) => a.outcome)).toEqual(['failed', 'completed']);
  });

  it('waitForTask rejects at once when the task ends otherwise, naming its last error', async () => {
    conveyor = await createTestConveyor({ tasks: [doomed] });
    const task = await conveyor.enqueue('doomed', {});
    await expect(conveyor.waitForTask(task.id, { status: 'completed' })).rejects.toThrow(/ended failed, not completed: .*bad input, do not retry/);
    // Without a status it waits for any finished one.
    expect((await conveyor.waitForTask(task.id)).status).toBe('failed');
  });

  it('enqueue refuses a type the worker does not run, and an invalid payload, naming the field', async () => {
    conveyor = await createTestConveyor({ tasks: [greet] });
    await expect(conveyor.enqueue('nobody_runs_this', {})).rejects.toThrow('task_type: "nobody_runs_this" is not a registered task type; registered: greet');
    await expect(conveyor.enqueue('greet', { name: 7 })).rejects.toMatchObject({ field: 'payload.name', message: 'payload.name: must be a string' });
  });

  it('waitForTask says where the task stands when it times out', async () => {
    conveyor = await createTestConveyor({ tasks: [greet] });
    // A task that got in without the client's check (straight into the database) waits for a worker that never comes.
    const { task: orphan } = await conveyor.engine.taskInsert({ task: newTask({ taskType: 'nobody_runs_this', payload: {} }, new Date()) });
    await expect(conveyor.waitForTask(orphan.id, { timeoutMs: 100 })).rejects.toThrow(
      /timed out after 100 ms .* it is pending \(attempt 0 of 3\); the worker has no handler for nobody_runs_this \(it runs greet\)/,
    );
  });

  it('close() stops the worker and removes the temporary folder', async () => {
    const local = await createTestConveyor({ tasks: [greet] });
    expect(existsSync(local.dir)).toBe(true);
    await local.close();
    expect(existsSync(local.dir)).toBe(false);
    await local.close();
  });
});
