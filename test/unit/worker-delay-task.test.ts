import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { delayTask } from '../../src/tasks/builtin/delay-task.ts';
import type { TaskContext } from '../../src/tasks/task-context.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';

function context(attempt: number, signal: AbortSignal = new AbortController().signal): TaskContext {
  return {
    taskId: 't1',
    taskType: 'delay_task',
    attempt,
    maxAttempts: 3,
    metadata: {},
    createdBy: null,
    createdAt: new Date(),
    idempotencyKey: 't1',
    signal,
    logger: silentLogger,
    progress: async () => {},
  };
}

describe('delay_task', () => {
  const registry = new TaskRegistry().register(delayTask);

  it('validates its payload', () => {
    expect(() => registry.validatePayload('delay_task', { delay_ms: 10 })).not.toThrow();
    expect(() => registry.validatePayload('delay_task', { delay_ms: 10, fail_attempts: 2 })).not.toThrow();
    expect(() => registry.validatePayload('delay_task', { delay_ms: -1 })).toThrow(/payload\.delay_ms/);
    expect(() => registry.validatePayload('delay_task', { delay_ms: 3_600_001 })).toThrow(/payload\.delay_ms/);
    expect(() => registry.validatePayload('delay_task', {})).toThrow(/delay_ms/);
    expect(() => registry.validatePayload('delay_task', { delay_ms: 1, record_file: '/tmp/x' })).toThrow();
  });

  it('fails its first fail_attempts attempts, then returns what it did', async () => {
    await expect(delayTask.handler({ delay_ms: 0, fail_attempts: 2 }, context(1))).rejects.toThrow(/failing attempt 1/);
    await expect(delayTask.handler({ delay_ms: 0, fail_attempts: 2 }, context(2))).rejects.toThrow(/failing attempt 2/);
    await expect(delayTask.handler({ delay_ms: 0, fail_attempts: 2 }, context(3))).resolves.toEqual({ slept_ms: expect.any(Number), attempt: 3 });
  });

  it('stops sleeping as soon as its signal aborts, with the abort reason', async () => {
    const controller = new AbortController();
    const running = delayTask.handler({ delay_ms: 3_600_000 }, context(1, controller.signal));
    const reason = new Error('cancelled');
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
  });
});
