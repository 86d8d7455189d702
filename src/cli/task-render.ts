import { READY_STATUSES, type TaskRecord } from '../core/task.ts';
import type { TypeHandling } from '../core/type-handling.ts';
import { formatAgo, formatDuration, formatTable, type Column } from './output.ts';

/** How tasks read in a terminal: a one-line row for lists, a page for `tasks show`. */

export const TASK_COLUMNS: readonly Column[] = [
  { header: 'ID' },
  { header: 'TYPE', max: 24 },
  { header: 'STATUS' },
  { header: 'PRIORITY' },
  { header: 'ATTEMPT', right: true },
  { header: 'CREATED' },
  { header: 'LAST ERROR', max: 60 },
];

export function taskRow(task: TaskRecord, now: Date): (string | number | null)[] {
  return [task.id, task.taskType, task.status, task.priority, `${task.currentAttempt}/${task.maxAttempts}`, formatAgo(task.createdAt, now), task.lastError];
}

export function formatTaskList(tasks: readonly TaskRecord[], now: Date): string {
  return formatTable(TASK_COLUMNS, tasks.map((task) => taskRow(task, now)));
}

/** `handling`: whether a live worker takes the task's type; said for a waiting task only. */
export function formatTaskDetail(task: TaskRecord, now: Date, handling?: TypeHandling): string {
  const lines: string[] = [];
  const field = (name: string, value: string | number | null) => lines.push(`  ${name.padEnd(16)}${value === null ? '-' : value}`);
  const when = (date: Date | null) => (date === null ? null : `${date.toISOString()}  (${formatAgo(date, now)})`);
  lines.push(`Task ${task.id}`);
  field('type', task.taskType);
  field('status', task.status + (task.cancelRequestedAt && task.status === 'running' ? ' (cancel requested)' : ''));
  field('priority', task.priority);
  field('attempt', `${task.currentAttempt} of ${task.maxAttempts}${task.rescueCount > 0 ? `, rescued ${task.rescueCount}×` : ''}`);
  field('retry strategy', JSON.stringify(task.retryStrategy));
  field('created', when(task.createdAt));
  if (task.createdBy) field('created by', task.createdBy);
  if (task.scheduledAt) field('scheduled at', when(task.scheduledAt));
  if (task.status === 'scheduled' || task.status === 'retrying' || task.status === 'pending') field('due', when(task.runAt));
  if (handling && (READY_STATUSES as readonly string[]).includes(task.status)) field('workers', describeHandling(task.taskType, handling));
  field('started', when(task.startedAt));
  field('finished', when(task.completedAt));
  if (task.workerId) field('worker', task.workerId);
  if (task.leaseExpiresAt) field('lease expires', when(task.leaseExpiresAt));
  if (task.idempotencyKey) field('idempotency key', task.idempotencyKey);
  if (Object.keys(task.metadata).length > 0) field('metadata', JSON.stringify(task.metadata));
  if (task.progress !== null) field('progress', JSON.stringify(task.progress));
  field('payload', JSON.stringify(task.payload));
  if (task.output !== null) field('output', JSON.stringify(task.output));
  if (task.lastError) field('last error', task.lastError);
  if (task.attempts.length > 0) {
    lines.push('  attempts');
    const table = formatTable(
      [{ header: '#', right: true }, { header: 'OUTCOME' }, { header: 'WORKER', max: 40 }, { header: 'STARTED' }, { header: 'TOOK', right: true }, { header: 'ERROR', max: 70 }],
      task.attempts.map((a) => [
        a.attempt,
        a.outcome,
        a.workerId,
        a.startedAt ? a.startedAt.toISOString() : null,
        a.startedAt ? formatDuration(a.finishedAt.getTime() - a.startedAt.getTime()) : null,
        a.error,
      ]),
    );
    lines.push(...table.split('\n').map((line) => `    ${line}`));
  }
  return lines.join('\n');
}

function describeHandling(taskType: string, handling: TypeHandling): string {
  if (handling.state === 'handled') return `${handling.liveWorkers} live worker${handling.liveWorkers === 1 ? ' takes' : 's take'} ${taskType}`;
  if (handling.state === 'no_live_workers') return 'none live: the task waits until a worker starts';
  return `warning: no live worker takes ${taskType}; the task waits until a worker with a handler for it starts`;
}
