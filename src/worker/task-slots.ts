import type { Clock } from '../core/clock.ts';
import type { RunningTask } from './running-task.ts';
import type { WorkerEventEmitter } from './worker-events.ts';

/**
 * The worker's `concurrency` slots and the attempts in them. An attempt holds a slot from its start
 * until its handler ends; a failure is written before the slot frees (so that a breaker it opens is
 * seen by the next claim), a completion after (it joins other completions in one write). Completions
 * being written hold a lease but no slot, up to `finishingAllowance` of them: beyond that they hold
 * slots, so a slow database slows claiming instead of piling up work.
 */
export class TaskSlots {
  readonly concurrency: number;
  readonly #finishingAllowance: number;
  readonly #clock: Clock;
  readonly #events: WorkerEventEmitter;
  /** Attempts whose handler runs (or whose failure is being written), in the order they started. */
  readonly #running = new Map<string, RunningTask>();
  /** Completed attempts whose completion is being written. */
  readonly #finishing = new Set<RunningTask>();

  constructor(deps: { concurrency: number; finishingAllowance: number; clock: Clock; events: WorkerEventEmitter }) {
    this.concurrency = deps.concurrency;
    this.#finishingAllowance = deps.finishingAllowance;
    this.#clock = deps.clock;
    this.#events = deps.events;
  }

  /** Slots free for claiming. */
  free(): number {
    return this.concurrency - this.#running.size - Math.max(0, this.#finishing.size - this.#finishingAllowance);
  }

  /** Attempts whose handler runs now. */
  get runningCount(): number {
    return this.#running.size;
  }

  /** Attempts running or having their outcome written. */
  get heldCount(): number {
    return this.#running.size + this.#finishing.size;
  }

  /**
   * How many running tasks started before `epochMs`. The map holds them in the order they started,
   * so the count stops at the first later one: usually at once.
   */
  runningSince(epochMs: number): number {
    let count = 0;
    for (const running of this.#running.values()) {
      if (running.startedAtMs >= epochMs) break;
      count += 1;
    }
    return count;
  }

  /** Running now, or having their outcome written. */
  *held(): Iterable<RunningTask> {
    yield* this.#running.values();
    yield* this.#finishing;
  }

  /** Whether this attempt's handler runs now (or its failure is being written). */
  isRunning(running: RunningTask): boolean {
    return this.#running.get(running.task.id) === running;
  }

  /** Attempts whose handler runs now. */
  running(): Iterable<RunningTask> {
    return this.#running.values();
  }

  /** The attempt takes a slot, and its handler starts: `task-started`. */
  occupy(running: RunningTask): void {
    const id = running.task.id;
    // Only possible if an earlier attempt of ours lost its lease and still runs: it is superseded.
    this.#running.get(id)?.abort('lease_lost', 'a later attempt of this task was claimed');
    this.#running.set(id, running);
    this.#events.emit('task-started', running);
  }

  /** The handler completed: its slot frees now, while its completion is written. */
  handOver(running: RunningTask): void {
    this.#finishing.add(running);
    this.vacate(running);
  }

  /** The completion is written. */
  written(running: RunningTask): void {
    this.#finishing.delete(running);
    // A long backlog of completions holds slots (see free()); this may have freed one.
    if (this.#finishing.size >= this.#finishingAllowance) this.#events.emit('slot-freed', null);
  }

  /** The attempt leaves its slot: `slot-freed`. */
  vacate(running: RunningTask): void {
    if (this.#running.get(running.task.id) === running) this.#running.delete(running.task.id);
    this.#events.emit('slot-freed', this.#clock.nowMs() - running.startedAtMs);
  }
}
