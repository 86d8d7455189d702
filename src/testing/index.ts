/**
 * Conveyor's testing helpers (`import { runTask, createTestConveyor } from 'conveyor-tasks/testing'`), for
 * applications testing their own task types:
 *
 *   runTask(definition, payload, options?)   one handler call with a real TaskContext, no database
 *   createTestConveyor({ tasks })            a temporary SQLite database, a real worker and a client;
 *                                            enqueue(), waitForTask(id, { status }), close()
 */
export { runTask, type RunTaskOptions, type TaskRun } from './run-task.ts';
export { createTestConveyor, TestConveyor, type TestConveyorOptions, type WaitForTaskOptions, type EnqueueOptions } from './test-conveyor.ts';
export { CaptureLogger, type LogEntry, type LogLevel } from './capture-logger.ts';
