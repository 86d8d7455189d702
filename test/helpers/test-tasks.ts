import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineTask } from '../../src/tasks/define-task.ts';
import { abortableSleep } from '../../src/tasks/abortable-sleep.ts';

/**
 * Task types that only tests register (test/helpers/test-worker.ts). They read their hooks from the
 * environment of the worker process, never from the payload, so no builtin grows test-only knobs.
 *
 *   CONVEYOR_TEST_RECORD_DIR  record_task appends one JSON line per execution to <dir>/<pid>.jsonl
 *   CONVEYOR_TEST_FLAKY_FILE  flaky_task fails while this file says "down"
 */

export interface ExecutionRecord {
  task_id: string;
  attempt: number;
  pid: number;
  start: number;
  end: number;
  outcome: 'completed' | 'failed' | 'aborted';
  reason?: string;
}

function record(entry: ExecutionRecord): void {
  const dir = process.env.CONVEYOR_TEST_RECORD_DIR;
  if (dir) appendFileSync(join(dir, `${process.pid}.jsonl`), `${JSON.stringify(entry)}\n`);
}


/** Like delay_task, but every execution is written down (start, end, attempt, process). */
export const recordTask = defineTask({
  name: 'record_task',
  description: 'test: sleeps delay_ms, fails its first fail_attempts attempts, records every execution',
  payload: Type.Object({ delay_ms: Type.Optional(Type.Integer({ minimum: 0 })), fail_attempts: Type.Optional(Type.Integer({ minimum: 0 })) }),
  async handler(payload, context) {
    const start = Date.now();
    const base = { task_id: context.taskId, attempt: context.attempt, pid: process.pid, start };
    try {
      await abortableSleep(payload.delay_ms ?? 0, context.signal);
    } catch (error) {
      record({ ...base, end: Date.now(), outcome: 'aborted', reason: error instanceof Error ? error.message : String(error) });
      throw error;
    }
    if (context.attempt <= (payload.fail_attempts ?? 0)) {
      record({ ...base, end: Date.now(), outcome: 'failed' });
      throw new Error(`record_task: failing attempt ${context.attempt} as asked`);
    }
    record({ ...base, end: Date.now(), outcome: 'completed' });
    return { attempt: context.attempt, pid: process.pid };
  },
});

/** Fails while its dependency (a file) says "down"; for the circuit breaker. */
export const flakyTask = defineTask({
  name: 'flaky_task',
  description: 'test: fails while CONVEYOR_TEST_FLAKY_FILE says "down"',
  payload: Type.Object({}),
  async handler() {
    const file = process.env.CONVEYOR_TEST_FLAKY_FILE;
    const state = file ? readFileSync(file, 'utf8').trim() : 'up';
    if (state === 'down') throw new Error('flaky_task: the dependency is down');
    return { ok: true };
  },
});

/** Honours its abort signal; a 500 ms timeout. */
export const slowTask = defineTask({
  name: 'slow_task',
  description: 'test: sleeps delay_ms abortably, times out after 500 ms',
  payload: Type.Object({ delay_ms: Type.Integer({ minimum: 0 }) }),
  timeoutMs: 500,
  async handler(payload, context) {
    await abortableSleep(payload.delay_ms, context.signal);
  },
});

/** Ignores its abort signal entirely; a 500 ms timeout. */
export const stubbornTask = defineTask({
  name: 'stubborn_task',
  description: 'test: sleeps delay_ms and ignores its abort signal, times out after 500 ms',
  payload: Type.Object({ delay_ms: Type.Integer({ minimum: 0 }) }),
  timeoutMs: 500,
  async handler(payload) {
    await new Promise((resolve) => setTimeout(resolve, payload.delay_ms));
    return { finished: true };
  },
});

/** Ignores its abort signal, with the default (long) timeout: only shutdown's abort reaches it. */
export const deafTask = defineTask({
  name: 'deaf_task',
  description: 'test: sleeps delay_ms and ignores its abort signal',
  payload: Type.Object({ delay_ms: Type.Integer({ minimum: 0 }) }),
  async handler(payload) {
    await new Promise((resolve) => setTimeout(resolve, payload.delay_ms));
    return { finished: true };
  },
});

/**
 * Freezes its own process (SIGSTOP) mid-handler on the attempt named in the payload; once resumed
 * (SIGCONT) it returns at once, so the worker reports a completion that arrives late.
 */
export const freezeTask = defineTask({
  name: 'freeze_task',
  description: 'test: stops its own process on freeze_attempt, otherwise sleeps delay_ms',
  payload: Type.Object({ freeze_attempt: Type.Integer({ minimum: 1 }), delay_ms: Type.Integer({ minimum: 0 }) }),
  async handler(payload, context) {
    if (context.attempt === payload.freeze_attempt) {
      process.kill(process.pid, 'SIGSTOP');
    } else {
      await abortableSleep(payload.delay_ms, context.signal);
    }
    return { attempt: context.attempt, pid: process.pid };
  },
});

export const testTasks = [recordTask, flakyTask, slowTask, stubbornTask, deafTask, freezeTask];
