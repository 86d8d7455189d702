import { nextRetryAt, type RetryStrategy } from './retry-strategy.ts';
import { READY_STATUSES, type AttemptOutcome, type TaskStatus } from './task.ts';

/**
 * The task lifecycle's decisions, written once as pure functions: what becomes of a task that leaves
 * `running`. Engines read the facts a decision needs, call these, and persist the decided transition
 * fenced by the lease (and by the facts they read), never deciding in SQL or engine code of their own.
 * So SQLite and PostgreSQL cannot drift apart (River's JobSetStateIfRunning, Oban's error_job).
 */

// --- a failed attempt --------------------------------------------------------------------------

export interface FailFacts {
  /** The attempt that failed (the lease's). */
  attempt: number;
  /** The task's max_attempts column: the one that counts (a manual retry can raise it). */
  maxAttempts: number;
  /** The stored strategy: it only says how long to wait. */
  strategy: RetryStrategy;
  cancelRequested: boolean;
  /** The handler marked the error permanent (bad payload, a webhook's 4xx): no retry. */
  permanent: boolean;
  now: Date;
  random?: (() => number) | undefined;
  /** The retry no sooner than this (a handler's RetryableTaskError.retryAfterMs). */
  minDelayMs?: number | undefined;
}

export type FailOutcome = { status: 'retrying'; runAt: Date } | { status: 'failed' } | { status: 'cancelled' };

/** A cancel request wins; then a permanent error or spent attempts go to the dead letter; else retry by the strategy. */
export function decideFail(f: FailFacts): FailOutcome {
  if (f.cancelRequested) return { status: 'cancelled' };
  if (f.permanent) return { status: 'failed' };
  const runAt = nextRetryAt({ ...f.strategy, max_attempts: f.maxAttempts }, f.attempt, f.now, f.random, f.minDelayMs);
  return runAt === null ? { status: 'failed' } : { status: 'retrying', runAt };
}

// --- an expired lease ------------------------------------------------------------------------

export interface RescueFacts {
  /** Who held the lease; null when the row does not say. */
  workerId: string | null;
  /** Rescues before this one: leases lost while the handler ran. */
  rescueCount: number;
  /**
   * The lost attempt's handler started (the row's attempt_started): the claim counted it as starting
   * at once, or the worker wrote down its start. False: it was claimed ahead (a prefetch) and still
   * waited in the worker's queue, so it cannot have killed its worker.
   */
  started: boolean;
  /** Leases of this task lost before their handler started, before this one. */
  unstartedLosses: number;
  attempt: number;
  maxAttempts: number;
  cancelRequested: boolean;
  /** A task rescued this many times goes to the dead letter: it keeps killing its workers. */
  maxRescues: number;
}

export type RescueOutcome =
  | {
      /** A started attempt was lost: it counts against max_rescues and is recorded as `lease_expired`. */
      counted: true;
      /** Retrying is due at once (the rescuer's now); the others end the task. */
      status: 'retrying' | 'failed' | 'cancelled';
      /** The rescue count after this rescue. */
      rescueCount: number;
      /** The task's last error, and the error of the attempt recorded as `lease_expired`. */
      message: string;
    }
  | {
      /**
       * The attempt never started: handed back as if never claimed (decideUnclaim), its attempt number
       * given back, no rescue counted, nothing added to the history; unstarted_losses goes up by one.
       */
      counted: false;
      status: 'pending' | 'retrying' | 'cancelled';
    };

/**
 * What `max_rescues` counts: leases lost while the attempt's handler ran (or may have), the only
 * losses a task can cause itself. A task claimed ahead and lost before it started goes back free.
 */
export function decideRescue(f: RescueFacts): RescueOutcome {
  if (!f.started) return { counted: false, status: decideUnclaim({ attempt: f.attempt, cancelRequested: f.cancelRequested }) };
  const rescueCount = f.rescueCount + 1;
  const lost = `lease expired: worker ${f.workerId ?? 'unknown'} stopped renewing while the handler ran (rescue ${rescueCount} of max ${f.maxRescues})`;
  const capped = rescueCount >= f.maxRescues;
  const status = f.cancelRequested ? 'cancelled' : capped || f.attempt >= f.maxAttempts ? 'failed' : 'retrying';
  // The dead letter says why: a task whose workers keep dying under it is taken for their cause.
  const message = status === 'failed' && capped ? `${lost}: dead-lettered, as its handler may be what kills its workers (process.exit, a blocked event loop)` : lost;
  return { counted: true, status, rescueCount, message };
}

// --- starting a claimed task -------------------------------------------------------------------

/** What a worker must know of a claimed task before starting it. */
export interface StartFacts {
  /** The claim already counted it as started (attempt_started). */
  startRecorded: boolean;
  rescueCount: number;
  unstartedLosses: number;
}

export interface StartRule {
  /**
   * It runs alone: a started attempt of it was lost with its worker, so it may be a poison (a handler
   * that exits or freezes its process). The worker hands back its other claimed tasks, waits for its
   * running ones to end, and starts nothing else until this one ends: a poison takes no innocent along.
   */
  alone: boolean;
  /**
   * Its start is written before its handler runs (not batched after): it was rescued, or lost before
   * its start was written down, so its next loss must be told right (a poison cannot loop for free).
   */
  recordFirst: boolean;
}

export function decideStart(f: StartFacts): StartRule {
  const alone = f.rescueCount > 0;
  return { alone, recordFirst: !f.startRecorded && (alone || f.unstartedLosses > 0) };
}

// --- handing a task back -----------------------------------------------------------------------

/**
 * A claimed task never started (a prefetch the worker will not run): as if not claimed, its attempt
 * number given back; `retrying` if an attempt ran before, else `pending`. A task whose cancellation was
 * requested meanwhile is not handed to another worker only to be aborted there: it ends `cancelled`.
 */
export function decideUnclaim(f: { attempt: number; cancelRequested: boolean }): 'pending' | 'retrying' | 'cancelled' {
  if (f.cancelRequested) return 'cancelled';
  return f.attempt > 1 ? 'retrying' : 'pending';
}

export interface ReleaseOutcome {
  status: 'pending' | 'scheduled' | 'cancelled';
  /** When it is due again (unchanged for a cancelled one, whose row keeps it). */
  runAt: Date;
  /** How the attempt is recorded in the history. */
  attemptOutcome: Extract<AttemptOutcome, 'released' | 'snoozed'>;
}

/**
 * A running task handed back unspent: due at once (a shutdown: `released`) or at `until` (the handler
 * snoozed it: `snoozed`, `scheduled` while in the future); `cancelled` if cancellation was requested.
 */
export function decideRelease(f: { now: Date; until: Date | null; cancelRequested: boolean }): ReleaseOutcome {
  const runAt = f.until ?? f.now;
  const attemptOutcome = f.until === null ? 'released' : 'snoozed';
  if (f.cancelRequested) return { status: 'cancelled', runAt, attemptOutcome };
  return { status: runAt.getTime() > f.now.getTime() ? 'scheduled' : 'pending', runAt, attemptOutcome };
}

// --- wake-ups ----------------------------------------------------------------------------------

/** The changes that can leave a task waiting for a worker. */
export type WakeCause = 'insert' | 'retry' | 'release' | 'unclaim' | 'rescue' | 'fail';

/**
 * Whether a task that a `cause` just left in `status` should wake idle workers (LISTEN/NOTIFY, the
 * SQLite signal file): it waits to be claimed, now or at its due time (an idle worker then works out
 * again when to wake). Inserts, manual retries, releases and snoozes, unclaims and rescues back to
 * `retrying` do; anything that ends a task does not. A failed attempt's retry does not either: it is
 * due after a backoff, the worker that failed it is awake and finds it then, and a notification per
 * failure would wake every idle worker for nothing.
 */
export function wakesWorkers(cause: WakeCause, status: TaskStatus): boolean {
  return cause !== 'fail' && (READY_STATUSES as readonly TaskStatus[]).includes(status);
}
