import { breakerStateAt, type BreakerConfig, type BreakerState } from '../core/circuit-breaker.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Engine } from '../store/engine.ts';
import type { WorkerEventEmitter } from './worker-events.ts';

/**
 * Keeps this worker's view of the shared circuit breakers, so that the hot path costs nothing: a
 * success is written only when the type's breaker is not known to be cleanly closed (a success then
 * matters: it resets a failure run or counts toward closing a half-open breaker). Failures are always
 * written. The view is learned from every breakerRecord answer and refreshed from breakerList when it
 * is older than `refreshMs` and a success needs the answer, so an idle worker reads nothing.
 * When it learns that a breaker is open it says so with `breaker-opened` (with when it half-opens):
 * the worker's claimed tasks of that type must not start, and claims of it resume then.
 */
export class BreakerTracker {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #config: BreakerConfig;
  readonly #refreshMs: number;
  readonly #states = new Map<string, BreakerState>();
  #refreshedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | null = null;
  /** Types with a success being written: one is enough to reset a failure run, so others skip it. */
  readonly #successInFlight = new Set<string>();
  readonly #events: WorkerEventEmitter | null;

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger; config: BreakerConfig; events?: WorkerEventEmitter; refreshMs?: number }) {
    this.#engine = deps.engine;
    this.#events = deps.events ?? null;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#config = deps.config;
    this.#refreshMs = deps.refreshMs ?? 5000;
  }

  /** The state last seen; null when this worker has never seen a row (no row means closed). */
  get(taskType: string): BreakerState | null {
    return this.#states.get(taskType) ?? null;
  }

  /** True while the type's breaker, as this worker last saw it, stops its tasks from starting. */
  isOpen(taskType: string): boolean {
    if (this.#states.size === 0) return false;
    const known = this.#states.get(taskType);
    return known !== undefined && known.state !== 'closed' && breakerStateAt(known, this.#clock.now()) === 'open';
  }

  /**
   * True when recording a success for the type would change its breaker. While a closed breaker's
   * reset is being written, further successes are skipped (they would write the same thing); in
   * half-open every success counts toward closing, so none is skipped.
   */
  successMatters(taskType: string): boolean {
    if (this.#clock.nowMs() - this.#refreshedAt > this.#refreshMs) void this.refresh();
    const known = this.#states.get(taskType);
    if (known === undefined) return false;
    const state = breakerStateAt(known, this.#clock.now());
    if (state === 'closed') return known.consecutiveFailures > 0 && !this.#successInFlight.has(taskType);
    return true;
  }

  async record(taskType: string, outcome: 'success' | 'failure'): Promise<void> {
    const trackSuccess = outcome === 'success' && !this.#successInFlight.has(taskType);
    if (trackSuccess) this.#successInFlight.add(taskType);
    try {
      const next = await this.#engine.breakerRecord({ taskType, outcome, now: this.#clock.now(), config: this.#config });
      this.#learn(next, 'recorded');
    } catch (error) {
      this.#logger.warn({ err: error, task_type: taskType, outcome }, 'could not record the outcome in the circuit breaker');
    } finally {
      if (trackSuccess) this.#successInFlight.delete(taskType);
    }
  }

  /** Reads every breaker; concurrent callers share one query. Failures are logged, not thrown. */
  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const states = await this.#engine.breakerList();
        this.#refreshedAt = this.#clock.nowMs();
        for (const state of states) this.#learn(state, 'seen');
      } catch (error) {
        this.#logger.debug({ err: error }, 'could not read circuit breakers');
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  #learn(next: BreakerState, how: 'recorded' | 'seen'): void {
    const previous = this.#states.get(next.taskType);
    this.#states.set(next.taskType, next);
    const now = this.#clock.now();
    const before = previous ? breakerStateAt(previous, now) : 'closed';
    const after = breakerStateAt(next, now);
    if (before === after) return;
    const fields = {
      task_type: next.taskType,
      breaker_from: before,
      breaker_to: after,
      consecutive_failures: next.consecutiveFailures,
      reopens_at: next.reopensAt?.toISOString() ?? null,
    };
    // Transitions this worker caused are news; ones it merely noticed were logged by their cause.
    if (how === 'recorded') {
      if (after === 'open') this.#logger.warn(fields, `circuit breaker for ${next.taskType} opened: its tasks wait until ${fields.reopens_at}`);
      else this.#logger.info(fields, `circuit breaker for ${next.taskType} is now ${after}`);
    } else {
      this.#logger.debug(fields, `circuit breaker for ${next.taskType} is ${after}`);
    }
    if (after === 'open') this.#events?.emit('breaker-opened', next.taskType, next.reopensAt);
  }
}
