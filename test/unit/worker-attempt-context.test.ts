import { expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import type { ClaimedTask, JsonValue } from '../../src/core/task.ts';
import { AttemptContext } from '../../src/worker/attempt-context.ts';
import { RunningTask } from '../../src/worker/running-task.ts';

const task: ClaimedTask = {
  id: '0190a4c2-0000-7000-8000-000000000001',
  taskType: 'email',
  payload: {},
  priority: 'normal',
  runAt: new Date(0),
  currentAttempt: 2,
  maxAttempts: 3,
  metadata: { tenant: 'a' },
  idempotencyKey: null,
  createdBy: null,
  breakerScope: null,
  createdAt: new Date(0),
  rescueCount: 0,
  unstartedLosses: 0,
  startRecorded: true,
};

it('a handler may destructure its context, progress and signal included', async () => {
  const reports: [string, JsonValue][] = [];
  const running = new RunningTask(task, 'w1', 0, 30_000, silentLogger);
  const context = new AttemptContext(running, async (r, report) => void reports.push([r.task.id, report]));
  const { progress, signal, attempt, maxAttempts, metadata, idempotencyKey, taskId } = context;
  await progress({ percent: 50 });
  expect(reports).toEqual([[task.id, { percent: 50 }]]);
  expect({ attempt, maxAttempts, metadata, idempotencyKey, taskId }).toEqual({ attempt: 2, maxAttempts: 3, metadata: { tenant: 'a' }, idempotencyKey: task.id, taskId: task.id });
  expect(signal.aborted).toBe(false);
  running.abort('cancelled', 'the task was cancelled');
  expect(signal.aborted).toBe(true);
  expect(context.signal.reason).toMatchObject({ kind: 'cancelled' });
});
