import { breakerLabel } from '../core/breaker-scope.ts';
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
 * the worker's claimed tasks of that type (or of that type and scope) must not start, and claims of
 * them resume then. Breakers are known by their label, `webhook` or `webhook @ api.example.com`.
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
  /** Breakers (by label) with a success being written: one is enough to reset a failure run, so others skip it. */
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
  get(taskType: string, scope: string | null = null): BreakerState | null {
    return this.#states.get(breakerLabel(taskType, scope)) ?? null;
  }

  /**
   * True while a breaker, as this worker last saw it, stops the task from starting: its type's, or
   * the one of its scope (a webhook's host).
   */
  isOpen(taskType: string, scope: string | null = null): boolean {
    if (this.#states.size === 0) return false;
    return this.#openNow(taskType) || (scope !== null && this.#openNow(breakerLabel(taskType, scope)));
  }

  #openNow(label: string): boolean {
    const known = this.#states.get(label);
    return known !== undefined && known.state !== 'closed' && breakerStateAt(known, this.#clock.now()) === 'open';
  }

  /**
   * True when recording a success for the type would change its breaker. While a closed breaker's
   * reset is being written, further successes are skipped (they would write the same thing); in
   * half-open every success counts toward closing, so none is skipped.
   */
  successMatters(taskType: string, scope: string | null = null): boolean {
    if (this.#clock.nowMs() - this.#refreshedAt > this.#refreshMs) void this.refresh();
    const label = breakerLabel(taskType, scope);
    const known = this.#states.get(label);
    if (known === undefined) return false;
    const state = breakerStateAt(known, this.#clock.now());
    if (state === 'closed') return known.consecutiveFailures > 0 && !this.#successInFlight.has(label);
    return true;
  }

  /** Records an outcome in the task's breaker: its scope's when it has one (a webhook's host), else its type's. */
  async record(taskType: string, outcome: 'success' | 'failure', scope: string | null = null): Promise<void> {
    const label = breakerLabel(taskType, scope);
    const trackSuccess = outcome === 'success' && !this.#successInFlight.has(label);
    if (trackSuccess) this.#successInFlight.add(label);
    try {
      const next = await this.#engine.breakerRecord({ taskType, scope, outcome, now: this.#clock.now(), config: this.#config });
      this.#learn(next, 'recorded');
    } catch (error) {
      this.#logger.warn({ err: error, task_type: taskType, breaker_scope: scope, outcome }, 'could not record the outcome in the circuit breaker');
    } finally {
      if (trackSuccess) this.#successInFlight.delete(label);
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
    const label = breakerLabel(next.taskType, next.scope);
    const previous = this.#states.get(label);
    this.#states.set(label, next);
    const now = this.#clock.now();
    const before = previous ? breakerStateAt(previous, now) : 'closed';
    const after = breakerStateAt(next, now);
    if (before === after) return;
    const fields = {
      task_type: next.taskType,
      breaker_scope: next.scope,
      breaker_from: before,
      breaker_to: after,
      consecutive_failures: next.consecutiveFailures,
      reopens_at: next.reopensAt?.toISOString() ?? null,
    };
    // Transitions this worker caused are news; ones it merely noticed were logged by their cause.
    if (how === 'recorded') {
      if (after === 'open') this.#logger.warn(fields, `circuit breaker for ${label} opened: its tasks wait until ${fields.reopens_at}`);
      else this.#logger.info(fields, `circuit breaker for ${label} is now ${after}`);
    } else {
      this.#logger.debug(fields, `circuit breaker for ${label} is ${after}`);
    }
    if (after === 'open') this.#events?.emit('breaker-opened', next.taskType, next.scope, next.reopensAt);
  }
}
