/**
 * Conveyor's library API (`import ... from 'conveyor-tasks'`), documented in docs/library.md: define
 * task types, enqueue and manage tasks with the client, run a worker in your own process. The storage
 * engines behind them are internal; only the chosen database driver is loaded.
 */
export { ConveyorClient, type ConveyorClientOptions, type EnqueueOptions } from './client/conveyor-client.ts';
export { ConveyorWorker, type ConveyorWorkerOptions } from './client/conveyor-worker.ts';
export type { WorkerSettings, BreakerSettings } from './worker/worker-config.ts';
export { defineTask, type TaskDefinition } from './tasks/define-task.ts';
export type { TaskContext } from './tasks/task-context.ts';
// Payload schemas are TypeBox types; re-exported so a task module needs only this package.
export { Type, type Static, type TSchema } from '@sinclair/typebox';
export type { TaskInput } from './core/new-task.ts';
export type { ScheduleInput, ScheduleRecord } from './core/schedule.ts';
export type { TaskRecord, TaskStatus, TaskPriority, JsonValue, JsonObject, AttemptRecord } from './core/task.ts';
export type { RetryStrategy } from './core/retry-strategy.ts';
// What the client's methods return (records, not the engine behind them).
export type { TaskInsertResult, TaskListParams, TaskListResult, TaskStats, TypeLimit, TypePause } from './store/engine.ts';
export type { Logger } from './core/logger.ts';
export { ConveyorError, ERROR_CODES, type ErrorCode } from './core/errors.ts';
export { PermanentTaskError, RetryableTaskError, SnoozeTaskError } from './core/task-errors.ts';
export { systemClock, ManualClock, type Clock } from './core/clock.ts';
