import { Type } from '@sinclair/typebox';
import { defineTask } from '../define-task.ts';
import { abortableSleep } from '../abortable-sleep.ts';

export const MAX_DELAY_MS = 3_600_000;

/**
 * Sleeps for `delay_ms` and fails its first `fail_attempts` attempts: for trying Conveyor out, for
 * tests and for benchmarks (`delay_ms: 0` is a no-op task). The sleep ends at once when the task is
 * aborted (timeout, cancellation, shutdown), with the abort's reason as the error.
 */
export const delayTask = defineTask({
  name: 'delay_task',
  description: 'Waits delay_ms milliseconds, failing (retryably) its first fail_attempts attempts. For testing.',
  payload: Type.Object(
    {
      delay_ms: Type.Integer({ minimum: 0, maximum: MAX_DELAY_MS, description: 'How long to wait, in milliseconds' }),
      fail_attempts: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'Attempts that fail before one succeeds' })),
    },
    { additionalProperties: false },
  ),
  examples: [{ delay_ms: 1000 }, { delay_ms: 500, fail_attempts: 2 }],
  async handler(payload, context) {
    const started = Date.now();
    await abortableSleep(payload.delay_ms, context.signal);
    if (context.attempt <= (payload.fail_attempts ?? 0)) {
      throw new Error(`delay_task: failing attempt ${context.attempt} of the first ${payload.fail_attempts} as asked`);
    }
    return { slept_ms: Date.now() - started, attempt: context.attempt };
  },
});
