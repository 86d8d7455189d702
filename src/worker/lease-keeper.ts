import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Engine } from '../store/engine.ts';
import type { RunningTask } from './running-task.ts';

/**
 * Looks after the leases of every attempt this worker holds, in one round trip every `heartbeatMs`
 * (and not at all when nothing runs). Leases with less than two thirds of their length left are
 * extended; the others are only looked at (a read, no row lock, no write), which is what most of a
 * busy worker's hundreds of leases need most of the time. The answer also carries cancel requests,
 * so a cancel reaches its handler within about one heartbeat. An attempt whose lease was taken away
 * is aborted; so is one whose lease could not be renewed and would expire before the next try,
 * because by then the rescuer may hand its task to someone else.
 */
export class LeaseKeeper {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #workerId: string;
  readonly #leaseMs: number;
  readonly #heartbeatMs: number;
  readonly #running: () => Iterable<RunningTask>;
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> | null = null;
  #stopped = true;
  #failing = false;

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger; workerId: string; leaseMs: number; heartbeatMs: number; running: () => Iterable<RunningTask> }) {
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#workerId = deps.workerId;
    this.#leaseMs = deps.leaseMs;
    this.#heartbeatMs = deps.heartbeatMs;
    this.#running = deps.running;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#ticking;
  }

  /** One renewal of every held lease. */
  async runOnce(): Promise<void> {
    const held = [...this.#running()];
    if (held.length === 0) return;
    const sentAt = this.#clock.now();
    const renewBefore = sentAt.getTime() + (this.#leaseMs * 2) / 3;
    const renew: RunningTask[] = [];
    const check: RunningTask[] = [];
    for (const running of held) (running.leaseValidUntil <= renewBefore ? renew : check).push(running);
    try {
      const result = await this.#engine.taskHeartbeat({
        workerId: this.#workerId,
        leases: renew.map((r) => r.lease),
        check: check.map((r) => r.lease),
        now: sentAt,
        leaseMs: this.#leaseMs,
      });
      if (this.#failing) this.#logger.info({}, 'lease renewal works again');
      this.#failing = false;
      const byId = new Map(held.map((r) => [r.task.id, r]));
      for (const id of result.renewed) {
        const running = byId.get(id);
        if (running) running.leaseValidUntil = sentAt.getTime() + this.#leaseMs;
      }
      for (const id of result.lost) {
        byId.get(id)?.abort('lease_lost', 'the lease on this task was lost (it was rescued or finished elsewhere)');
      }
      for (const id of result.cancelRequested) {
        const running = byId.get(id);
        if (running && !running.aborted) {
          running.logger.info({}, 'cancellation requested: aborting the handler');
          running.abort('cancelled', 'the task was cancelled');
        }
      }
    } catch (error) {
      if (!this.#failing) this.#logger.warn({ err: error }, 'could not renew leases; retrying');
      this.#failing = true;
      this.#abortExpiring(held);
    }
  }

  /** Aborts the attempts whose lease runs out before another renewal could land. */
  #abortExpiring(held: Iterable<RunningTask>): void {
    const deadline = this.#clock.nowMs() + this.#heartbeatMs;
    for (const running of held) {
      if (running.leaseValidUntil <= deadline && !running.leaseLost) {
        running.logger.warn({ lease_valid_until: new Date(running.leaseValidUntil).toISOString() }, 'lease could not be renewed before it expires: aborting the handler');
        running.abort('lease_lost', 'the lease could not be renewed (database unreachable)');
      }
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      if (this.#ticking) {
        // The last renewal still hangs (a database that does not answer): leases keep running out.
        this.#abortExpiring(this.#running());
      } else {
        this.#ticking = this.runOnce().finally(() => {
          this.#ticking = null;
        });
      }
      this.#schedule();
    }, this.#heartbeatMs);
  }
}
