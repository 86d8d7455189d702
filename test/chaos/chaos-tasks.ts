import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { abortableSleep } from '../../src/tasks/abortable-sleep.ts';
import { defineTask } from '../../src/tasks/define-task.ts';

/**
 * The chaos suite's task types, loaded into real workers with `conveyor work --tasks <this file>`:
 * one innocent type that does a little work, and the poisons of issue 14, each a way a handler can
 * hurt the process that runs it. Every export here is a task definition (the loader takes them all).
 */

/**
 * With CHAOS_RECORD_DIR set, each start of an innocent attempt is written down (<dir>/<pid>.starts,
 * "task_id attempt" per line): the database cannot tell an attempt whose handler ran from one that
 * was claimed ahead and never started, and the report needs to say which a dead-lettered task had.
 */
function recordStart(taskId: string, attempt: number): void {
  const dir = process.env.CHAOS_RECORD_DIR;
  if (dir) appendFileSync(join(dir, `${process.pid}.starts`), `${taskId} ${attempt}\n`);
}

/** The innocent: sleeps delay_ms (abortably) and says which process ran it. */
export const chaosWork = defineTask({
  name: 'chaos_work',
  description: 'chaos: sleeps delay_ms and returns the pid that ran it',
  payload: Type.Object({ delay_ms: Type.Optional(Type.Integer({ minimum: 0 })) }),
  async handler(payload, context) {
    recordStart(context.taskId, context.attempt);
    await abortableSleep(payload.delay_ms ?? 0, context.signal);
    return { pid: process.pid, attempt: context.attempt };
  },
});

/** Blocks the event loop for good: no timer, signal handler or heartbeat of its process runs again. */
export const chaosBusyLoop = defineTask({
  name: 'chaos_busy_loop',
  description: 'chaos poison: while (true) {} (a 2 s timeout it cannot notice)',
  payload: Type.Object({}),
  timeoutMs: 2000,
  async handler() {
    // eslint-disable-next-line no-constant-condition
    while (true) {
      // spin
    }
  },
});

/** Ends the worker process from inside a handler. */
export const chaosExit = defineTask({
  name: 'chaos_exit',
  description: 'chaos poison: process.exit(3)',
  payload: Type.Object({}),
  async handler() {
    process.exit(3);
  },
});

/** Returns an output with a NUL character (PostgreSQL's jsonb refuses \u0000). */
export const chaosNulOutput = defineTask({
  name: 'chaos_nul_output',
  description: 'chaos poison: returns an output holding a NUL character',
  payload: Type.Object({}),
  async handler() {
    return { text: 'before\u0000after' };
  },
});

/** Fails with a NUL character in its error message (PostgreSQL's text refuses 0x00). */
export const chaosNulError = defineTask({
  name: 'chaos_nul_error',
  description: 'chaos poison: throws an error whose message holds a NUL character',
  payload: Type.Object({}),
  async handler() {
    throw new Error('broken\u0000message');
  },
});

