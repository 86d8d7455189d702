import { randomUUID } from 'node:crypto';
import { silentLogger } from '../../src/core/logger.ts';
import type { TaskContext } from '../../src/tasks/task-context.ts';

/**
 * The context a worker hands a handler, built by hand: the handlers under test are the real ones,
 * called directly. `controller` aborts the task (cancellation, timeout, shutdown).
 */
export function taskContext(overrides: Partial<TaskContext> = {}): TaskContext & { controller: AbortController } {
  const controller = new AbortController();
  const taskId = overrides.taskId ?? randomUUID();
  return {
    taskId,
    taskType: 'test',
    attempt: 1,
    maxAttempts: 3,
    metadata: {},
    createdBy: null,
    createdAt: new Date(),
    idempotencyKey: taskId,
    signal: controller.signal,
    logger: silentLogger,
    progress: async () => {},
    ...overrides,
    controller,
  };
}
