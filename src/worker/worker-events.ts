import type { Outcome } from './outcome.ts';
import type { RunningTask } from './running-task.ts';
import { TypedEmitter } from './typed-emitter.ts';

/**
 * What happens inside a worker, as events: the parts of the worker (producer, slots, executor, lease
 * keeper, breaker tracker, maintenance) tell each other through these instead of calling back into one
 * another, and a user or a test can watch them (`worker.events.on('task-finished', ...)`). Listeners
 * run synchronously inside emit(), so they must be quick; none may throw (a throw is logged).
 */
export type WorkerEvents = {
  /** A claim returned this attempt; it waits in the producer's queue for a slot (or starts at once). */
  'task-claimed': [running: RunningTask];
  /** The attempt took a slot; its handler starts now. */
  'task-started': [running: RunningTask];
  /**
   * A slot is free: a handler ended (`heldMs`: how long it held the slot), or a backlog of
   * completions being written shrank (`heldMs` null).
   */
  'slot-freed': [heldMs: number | null];
  /** The attempt's outcome was written down (or given up): the attempt is over for this worker. */
  'task-finished': [running: RunningTask, outcome: Outcome];
  /** A claimed attempt went back to the queue without starting (breaker open, cancel, waited too long, shutdown). */
  'task-unclaimed': [running: RunningTask];
  /** The lease of an attempt this worker holds was taken away, or could not be renewed in time. */
  'lease-lost': [running: RunningTask];
  /** A waiting task comes due at `at`: a retry or snooze this worker wrote, a breaker that will half-open. */
  'task-due': [at: Date];
  /** Tasks may be claimable now: an insert notification, tasks rescued or fired by a schedule. */
  'tasks-available': [];
  /** Insert notifications reach (or stopped reaching) this worker: the poll is a fallback only while they do. */
  'notifications': [working: boolean];
  /** This worker learned that a circuit breaker is open (a type's, scope null, or one scope's of it): its claimed tasks must not start. */
  'breaker-opened': [taskType: string, scope: string | null, reopensAt: Date | null];
};

export class WorkerEventEmitter extends TypedEmitter<WorkerEvents> {}
