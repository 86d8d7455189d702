import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { TaskRecord } from '../core/task.ts';
import type { Engine } from '../store/engine.ts';
import { WakeSignal } from './wake-signal.ts';

export interface ProducerDeps {
  engine: Engine;
  clock: Clock;
  logger: Logger;
  workerId: string;
  taskTypes: readonly string[];
  leaseMs: number;
  pollIntervalMs: number;
  /** Slots not running a task right now. */
  freeSlots(): number;
  /** Starts the claimed tasks; they take their slots at once. */
  dispatch(tasks: TaskRecord[], claimedAt: Date): void;
}

/** With a backlog, a second claim may start while the first is still on its way (PostgreSQL's SKIP LOCKED lets both proceed). */
const MAX_CLAIMS_IN_FLIGHT = 2;

/**
 * Claims work. Whenever slots are free it claims up to that many tasks in one round trip; a slow task
 * holds only its own slot. While the queue has a backlog (the last claim got all it asked for), slots
 * that free during a claim are filled by a second claim instead of waiting for the first to return.
 * Once a claim comes back short, the queue is taken to be empty: nothing more is claimed until an
 * insert notification, a freed slot, or the poll timer (the fallback, for retries coming due and lost
 * notifications), so an idle worker costs one cheap claim per poll interval.
 */
export class Producer {
  readonly #deps: ProducerDeps;
  readonly #wake = new WakeSignal();
  #stopped = false;
  #loop: Promise<void> | null = null;
  readonly #inFlight = new Set<Promise<void>>();
  /** Slots promised to claims in flight. */
  #reserved = 0;
  /** The last claim got every task it asked for, so more are probably waiting. */
  #backlog = true;
  /** Something happened since the last claim started (an insert, a freed slot, the poll timer). */
  #wanted = true;
  #failures = 0;
  /** performance.now() before which no claim is tried (backoff runs on real time, whatever the Clock says). */
  #retryAt = 0;

  constructor(deps: ProducerDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#stopped = false;
    this.#loop = this.#run();
  }

  /** Something may be claimable now (an insert, a freed slot, a breaker reopening). */
  wake(): void {
    this.#wake.notify();
  }

  /** Stops claiming; resolves once no claim is in flight (what they claimed has been dispatched). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake.notify();
    await this.#loop;
    await Promise.all(this.#inFlight);
  }

  /** One claim for the free slots; resolves with how many tasks it started. Throws what the engine throws. */
  async runOnce(): Promise<number> {
    const limit = this.#deps.freeSlots() - this.#reserved;
    if (limit <= 0) return 0;
    const { engine, clock, workerId, taskTypes, leaseMs } = this.#deps;
    this.#reserved += limit;
    try {
      const now = clock.now();
      const tasks = await engine.taskClaim({ workerId, taskTypes, limit, now, leaseMs });
      this.#backlog = tasks.length === limit;
      this.#reserved -= limit;
      if (tasks.length > 0) this.#deps.dispatch(tasks, now);
      return tasks.length;
    } catch (error) {
      this.#reserved -= limit;
      throw error;
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#canClaim()) {
        this.#wanted = false;
        this.#startClaim();
      } else {
        const waitMs = this.#failures > 0 ? Math.max(1, this.#retryAt - performance.now()) : this.#deps.pollIntervalMs;
        await this.#wake.wait(waitMs);
        // Woken by news or by the poll timer: either way, look again.
        this.#wanted = true;
      }
      // Let the other slots that free in this same turn land, so that one claim fills them all.
      await nextTurn();
    }
  }

  #canClaim(): boolean {
    if (this.#deps.freeSlots() - this.#reserved <= 0) return false;
    if (performance.now() < this.#retryAt) return false;
    // With a backlog, keep claiming (up to two at once); otherwise only when there is news.
    if (this.#inFlight.size === 0) return this.#wanted || this.#backlog;
    return this.#backlog && this.#inFlight.size < MAX_CLAIMS_IN_FLIGHT;
  }

  #startClaim(): void {
    const claim = this.runOnce().then(
      () => {
        if (this.#failures > 0) this.#deps.logger.info({ failures: this.#failures }, 'claiming works again');
        this.#failures = 0;
        this.#retryAt = 0;
        // With a backlog, go again at once if slots are free; a short claim waits for news instead.
        if (this.#backlog) this.#wake.notify();
      },
      (error: unknown) => {
        this.#failures += 1;
        // Back off while the database is away, but come back soon: it is usually a restart.
        const delayMs = Math.min(this.#deps.pollIntervalMs, 100 * 2 ** Math.min(this.#failures, 6));
        this.#retryAt = performance.now() + delayMs;
        if (this.#failures === 1 || this.#failures % 20 === 0) this.#deps.logger.warn({ err: error, failures: this.#failures }, 'could not claim tasks; retrying');
        this.#wake.notify();
      },
    );
    this.#inFlight.add(claim);
    void claim.finally(() => this.#inFlight.delete(claim));
  }
}
