import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Engine } from '../store/engine.ts';
import type { RunningTask } from './running-task.ts';
import type { WorkerEventEmitter } from './worker-events.ts';
import { WorkerService } from './worker-service.ts';

export interface LeaseKeeperDeps {
  engine: Engine;
  clock: Clock;
  logger: Logger;
  workerId: string;
  leaseMs: number;
  heartbeatMs: number;
  /** Every attempt whose lease this worker holds now. */
  running: () => Iterable<RunningTask>;
  /** Hears `lease-lost` for each attempt whose lease goes. */
  events?: WorkerEventEmitter;
}

/**
 * Looks after the leases of every attempt this worker holds, in one round trip every `heartbeatMs`
 * (and not at all when nothing runs). Leases with less than two thirds of their length left are
 * extended; the others are only looked at (a read, no row lock, no write), which is what most of a
 * busy worker's hundreds of leases need most of the time. The answer also carries cancel requests,
 * so a cancel reaches its handler within about one heartbeat. An attempt whose lease was taken away
 * is aborted; so is one whose lease could not be renewed and would expire before the next try,
 * because by then the rescuer may hand its task to someone else.
 */
export class LeaseKeeper extends WorkerService {
  protected readonly name = 'lease renewal';
  readonly #engine: Engine;
  readonly #workerId: string;
  readonly #leaseMs: number;
  readonly #heartbeatMs: number;
  readonly #running: () => Iterable<RunningTask>;
  readonly #events: WorkerEventEmitter | null;
  #ticking: Promise<void> | null = null;
  /** What a renewal threw that runOnce did not expect: the loop rethrows it for the supervisor. */
  #crash: { error: unknown } | null = null;
  #failing = false;

  constructor(deps: LeaseKeeperDeps) {
    super(deps);
    this.#engine = deps.engine;
    this.#workerId = deps.workerId;
    this.#leaseMs = deps.leaseMs;
    this.#heartbeatMs = deps.heartbeatMs;
    this.#running = deps.running;
    this.#events = deps.events ?? null;
  }

  protected maxBackoffMs(): number {
    return this.#heartbeatMs;
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.#ticking;
  }

  /**
   * Every heartbeat a renewal goes out, without waiting for the last one: if that one still hangs (a
   * database that does not answer), leases keep running out, so those about to are aborted instead.
   */
  protected async loop(): Promise<void> {
    while (!this.stopping) {
      await this.wait(this.#heartbeatMs);
      if (this.#crash) {
        const { error } = this.#crash;
        this.#crash = null;
        throw error;
      }
      if (this.stopping) return;
      if (this.#ticking) {
        this.#abortExpiring(this.#running());
      } else {
        this.#ticking = this.runOnce().then(
          () => {
            this.#ticking = null;
            this.recovered();
          },
          (error: unknown) => {
            this.#ticking = null;
            this.#crash = { error };
            this.wake();
          },
        );
      }
    }
  }

  /** One renewal of every held lease. */
  async runOnce(): Promise<void> {
    const held = [...this.#running()];
    if (held.length === 0) return;
    const sentAt = this.clock.now();
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
      if (this.#failing) this.logger.info({}, 'lease renewal works again');
      this.#failing = false;
      const byId = new Map(held.map((r) => [r.task.id, r]));
      for (const id of result.renewed) byId.get(id)?.leaseRenewed(sentAt.getTime(), this.#leaseMs);
      for (const id of result.lost) {
        const running = byId.get(id);
        if (running) this.#lose(running, 'the lease on this task was lost (it was rescued or finished elsewhere)');
      }
      for (const id of result.cancelRequested) {
        const running = byId.get(id);
        if (running && !running.aborted) {
          running.logger.info({}, 'cancellation requested: aborting the handler');
          running.abort('cancelled', 'the task was cancelled');
        }
      }
    } catch (error) {
      if (!this.#failing) this.logger.warn({ err: error }, 'could not renew leases; retrying');
      this.#failing = true;
      this.#abortExpiring(held);
    }
  }

  /** Aborts the attempts whose lease runs out before another renewal could land. */
  #abortExpiring(held: Iterable<RunningTask>): void {
    const deadline = this.clock.nowMs() + this.#heartbeatMs;
    for (const running of held) {
      if (running.leaseValidUntil <= deadline && !running.leaseLost) {
        running.logger.warn({ lease_valid_until: new Date(running.leaseValidUntil).toISOString() }, 'lease could not be renewed before it expires: aborting the handler');
        this.#lose(running, 'the lease could not be renewed (database unreachable)');
      }
    }
  }

  #lose(running: RunningTask, message: string): void {
    const first = !running.leaseLost;
    running.abort('lease_lost', message);
    if (first) this.#events?.emit('lease-lost', running);
  }
}
