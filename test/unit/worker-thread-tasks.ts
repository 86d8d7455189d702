import { threadId } from 'node:worker_threads';
import { Type } from '@sinclair/typebox';
import { PermanentTaskError } from '../../src/core/task-errors.ts';
import { defineTask } from '../../src/tasks/define-task.ts';

/** Task types that run in a worker thread (isolation: 'thread'), for worker-thread-isolation.test.ts. */

export const threadEcho = defineTask({
  name: 'thread_echo',
  description: 'returns its payload and the thread it ran in, after a progress report and a log line',
  payload: Type.Object({ n: Type.Integer() }),
  isolation: 'thread',
  module: import.meta.url,
  async handler(payload, context) {
    await context.progress({ percent: 50 });
    context.logger.info({ n: payload.n }, 'hello from the thread');
    return { n: payload.n, threadId, attempt: context.attempt };
  },
});

export const threadBlock = defineTask({
  name: 'thread_block',
  description: 'blocks its thread forever',
  payload: Type.Object({}),
  isolation: 'thread',
  module: import.meta.url,
  timeoutMs: 300,
  async handler() {
    // The thread never yields, so it cannot even hear its abort.
    for (;;) {
      /* spin */
    }
  },
});

export const threadExit = defineTask({
  name: 'thread_exit',
  description: 'ends its process (which, in a thread, is the thread)',
  payload: Type.Object({}),
  isolation: 'thread',
  module: import.meta.url,
  async handler() {
    process.exit(3);
  },
});

export const threadPermanent = defineTask({
  name: 'thread_permanent',
  description: 'fails permanently',
  payload: Type.Object({}),
  isolation: 'thread',
  module: import.meta.url,
  async handler() {
    throw new PermanentTaskError('the recipient does not exist');
  },
});

export const threadTasks = [threadEcho, threadBlock, threadExit, threadPermanent];
