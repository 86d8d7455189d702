import type { Clock, ClockTimer } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Engine } from '../store/engine.ts';
import type { RunningTask } from './running-task.ts';

export interface StartRecorderDeps {
  engine: Engine;
  clock: Clock;
  logger: Logger;
  workerId: string;
  /** Whether the attempt's handler still runs (its slot is held): only those are worth a write. */
  isRunning: (running: RunningTask) => boolean;
  /** How long after a start its record is written, with every other start of that window. */
  delayMs: number;
}

/**
 * Writes down, in batches, that the handlers of tasks claimed ahead (the producer's queue) started,
 * so that the rescuer counts a lease lost from then on against max_rescues (taskStartRecord). A
 * batch goes `delayMs` after its first start and holds only the attempts still running then: a task
 * that ends sooner costs no write at all, so a drain of fast tasks writes nothing more than before.
 *
 * A handler that kills its worker within that window is lost unrecorded, and goes back free once;
 * the rescuer then counts it an unstarted loss, and its next start is recorded before its handler
 * runs (core/lifecycle.ts decideStart), so it cannot loop for free.
 */
export class StartRecorder {
  readonly #deps: StartRecorderDeps;
  #pending: RunningTask[] = [];
  #timer: ClockTimer | null = null;

  constructor(deps: StartRecorderDeps) {
    this.#deps = deps;
  }

  /** The handler of a task whose claim did not count it as started has just started. */
  add(running: RunningTask): void {
    this.#pending.push(running);
    this.#timer ??= this.#deps.clock.setTimeout(flushStarts, this.#deps.delayMs, this);
  }

  /** Writes the starts of the attempts still running; the others need none. Failures are only logged. */
  flush(): Promise<void> {
    this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = null;
    const { engine, workerId, isRunning, logger } = this.#deps;
    const due = this.#pending.filter((running) => isRunning(running) && !running.leaseLost);
    this.#pending = [];
    if (due.length === 0) return Promise.resolve();
    return engine.taskStartRecord({ workerId, starts: due.map((running) => ({ lease: running.lease, startedAt: new Date(running.startedAtMs) })) }).then(
      () => undefined,
      (error: unknown) => {
        // Unrecorded, a lost lease goes back free once; its next start is then recorded first.
        logger.warn({ err: error, tasks: due.length }, 'could not record that claimed-ahead tasks started');
      },
    );
  }

  /** Drops what is pending (shutdown: the attempts end or go back by other means). */
  stop(): void {
    this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending = [];
  }
}

/** The timer's callback, shared (no closure per batch). */
function flushStarts(recorder: StartRecorder): void {
  void recorder.flush();
}
