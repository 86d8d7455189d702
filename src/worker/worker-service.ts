import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { WakeSignal } from './wake-signal.ts';

export interface WorkerServiceDeps {
  clock: Clock;
  logger: Logger;
}

/** Backoff after the first crash of a loop; it doubles with each crash in a row. */
const FIRST_BACKOFF_MS = 100;

/**
 * One of the worker's background jobs (claiming, lease renewal, maintenance, the registration
 * heartbeat, the insert subscription), all run the same way: start() runs `loop()` under a
 * supervisor, stop() ends it and waits for it. A loop that throws is logged and started again after a
 * backoff that doubles with each crash in a row (up to `maxBackoffMs`), so no error, expected (the
 * database is away) or not (a bug), can silently end one job while the others go on. Every wait goes
 * through the Clock: a ManualClock drives the loops in tests.
 *
 * A subclass implements runOnce() (one round, callable alone in tests) and usually `loop()`, calling
 * runOnce() between `wait()`s; after a round that worked it calls `recovered()`.
 */
export abstract class WorkerService {
  protected readonly clock: Clock;
  protected readonly logger: Logger;
  /** Ends a wait() early: news for the loop (wake()) or stop(). */
  readonly #wake: WakeSignal;
  /** Ends a backoff early: only stop() does. */
  readonly #stopWake: WakeSignal;
  #stopped = true;
  #supervisor: Promise<void> | null = null;
  #crashes = 0;

  constructor(deps: WorkerServiceDeps) {
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.#wake = new WakeSignal(deps.clock);
    this.#stopWake = new WakeSignal(deps.clock);
  }

  /** What the logs call this job, e.g. "claiming". */
  protected abstract readonly name: string;

  /** The longest pause before a crashed loop is started again. */
  protected abstract maxBackoffMs(): number;

  /** One round of the job. */
  abstract runOnce(): Promise<unknown>;

  /** Runs until `stopping`; a throw is a crash, which the supervisor logs and restarts after a backoff. */
  protected abstract loop(): Promise<void>;

  /** What the log says when the loop crashed with `error`. */
  protected crashMessage(_error: unknown): string {
    return `${this.name} failed; retrying`;
  }

  get stopping(): boolean {
    return this.#stopped;
  }

  /** How many times in a row the loop has crashed (0 once a round worked). */
  get crashes(): number {
    return this.#crashes;
  }

  start(): void {
    if (this.#supervisor) return;
    this.#stopped = false;
    this.#supervisor = this.#supervise();
  }

  /** Ends the loop (waking it from any wait) and resolves once it has returned. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake.notify();
    this.#stopWake.notify();
    await this.#supervisor;
    this.#supervisor = null;
  }

  /** Ends the loop's current (or next) wait() early. */
  wake(): void {
    this.#wake.notify();
  }

  /** Waits `ms` on the clock; true when woken early (wake() or stop()). */
  protected wait(ms: number): Promise<boolean> {
    return this.#wake.wait(ms);
  }

  /** A round worked: the next crash starts the backoff from the beginning. */
  protected recovered(): void {
    if (this.#crashes === 0) return;
    this.logger.info({ failures: this.#crashes }, this.recoveredMessage());
    this.#crashes = 0;
  }

  protected recoveredMessage(): string {
    return `${this.name} works again`;
  }

  /** The wait before the next restart, given the crashes so far (≥ 1). */
  protected backoffMs(crashes: number): number {
    return Math.min(this.maxBackoffMs(), FIRST_BACKOFF_MS * 2 ** Math.min(crashes - 1, 10));
  }

  async #supervise(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.loop();
      } catch (error) {
        if (this.#stopped) break;
        this.#crashes += 1;
        const delayMs = this.backoffMs(this.#crashes);
        // Once, then every twentieth: a database that is away for minutes must not flood the log.
        if (this.#crashes === 1 || this.#crashes % 20 === 0) this.logger.warn({ err: error, failures: this.#crashes, retry_in_ms: delayMs }, this.crashMessage(error));
        await this.#stopWake.wait(delayMs);
      }
    }
  }
}
