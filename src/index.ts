/** Conveyor's library API: everything an application needs to enqueue tasks and define task types. */
export { ConveyorClient, type ConveyorClientOptions, type EnqueueOptions } from './client/conveyor-client.ts';
export type { TaskInput } from './core/new-task.ts';
export type { ScheduleInput, ScheduleRecord } from './core/schedule.ts';
export type { TaskRecord, TaskStatus, TaskPriority, JsonValue, JsonObject, AttemptRecord } from './core/task.ts';
export type { RetryStrategy } from './core/retry-strategy.ts';
export { ConveyorError, ERROR_CODES, type ErrorCode } from './core/errors.ts';
export { PermanentTaskError, RetryableTaskError, SnoozeTaskError } from './core/task-errors.ts';
export { systemClock, ManualClock, type Clock } from './core/clock.ts';
export { defineTask, type TaskDefinition } from './tasks/define-task.ts';
// Payload schemas are TypeBox types; re-exported so a task module needs only this package.
export { Type, type Static } from '@sinclair/typebox';
export { Worker } from './worker/worker.ts';
export { TaskRegistry } from './tasks/task-registry.ts';
export type { TaskContext } from './tasks/task-context.ts';
export type { Engine, TypeLimit, TypePause } from './store/engine.ts';

