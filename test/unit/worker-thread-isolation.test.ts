import { threadId } from 'node:worker_threads';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { defineTask } from '../../src/tasks/define-task.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { testDatabases } from '../helpers/databases.ts';
import { insertTasks } from '../helpers/task-fixtures.ts';
import { workerTestBench } from '../helpers/worker-test-bench.ts';
import { threadTasks } from './worker-thread-tasks.ts';

describe('defineTask isolation', () => {
  it('refuses thread isolation without the module URL, naming the field', () => {
    expect(() => defineTask({ name: 'x', description: 'x', payload: Type.Object({}), isolation: 'thread', handler: async () => null })).toThrow(/module: must be the URL/);
    expect(() => defineTask({ name: 'x', description: 'x', payload: Type.Object({}), isolation: 'process' as never, handler: async () => null })).toThrow(/isolation: must be/);
  });
});

/** Handlers in worker threads, under a real worker on a real engine: a blocked or exiting handler costs only its attempt. */
describe.each(testDatabases)('thread isolation on $kind', ({ create }) => {
  const bench = workerTestBench(create, { finishTimeoutMs: 30_000 });
  const finished = bench.finished;

  const inline = defineTask({
    name: 'inline_ok',
    description: 'an innocent inline task',
    payload: Type.Object({}),
    async handler() {
      return { threadId };
    },
  });

  it('runs the handler in another thread; a blocked thread is terminated, an exiting one fails its attempt, others run on', async () => {
    const engine = await bench.open();
    await bench.start({ registry: new TaskRegistry().register(inline, ...threadTasks), config: { worker: { poll_interval_ms: 50, concurrency: 4 } }, abortGraceMs: 400 });
    const once = { type: 'fixed', interval_ms: 0, jitter: 0, max_attempts: 1 } as const;
    const twice = { ...once, max_attempts: 2 };
    const [echo, block, exit, permanent] = await insertTasks(engine, [
      { taskType: 'thread_echo', payload: { n: 7 } },
      { taskType: 'thread_block', payload: {}, retryStrategy: twice },
      { taskType: 'thread_exit', payload: {}, retryStrategy: once },
      { taskType: 'thread_permanent', payload: {}, retryStrategy: twice },
    ]);
    const innocents = await insertTasks(engine, Array.from({ length: 20 }, () => ({ taskType: 'inline_ok', payload: {} })));

    const echoed = await finished(echo!.id);
    expect(echoed.status).toBe('completed');
    expect(echoed.output).toMatchObject({ n: 7, attempt: 1 });
    expect((echoed.output as { threadId: number }).threadId).not.toBe(threadId);
    expect(echoed.progress).toEqual({ percent: 50 });

    const blocked = await finished(block!.id);
    expect(blocked.status).toBe('failed');
    // Its retry strategy ran: two attempts, each terminated.
    expect(blocked.currentAttempt).toBe(2);
    expect(blocked.lastError).toBe('handler blocked the thread past its 300 ms timeout and was terminated');

    const exited = await finished(exit!.id);
    expect(exited.status).toBe('failed');
    expect(exited.lastError).toMatch(/thread exited with code 3/);

    const refused = await finished(permanent!.id);
    expect(refused.status).toBe('failed');
    expect(refused.currentAttempt).toBe(1);
    expect(refused.lastError).toBe('the recipient does not exist');

    for (const task of innocents) expect((await finished(task.id)).status).toBe('completed');
    // The worker still claims and runs after all that.
    const [after] = await insertTasks(engine, [{ taskType: 'thread_echo', payload: { n: 8 } }]);
    expect((await finished(after!.id)).status).toBe('completed');
  });
});
