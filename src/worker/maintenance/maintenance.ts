import type { Clock, ClockTimer } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { Engine } from '../../store/engine.ts';
import type { WorkerEventEmitter } from '../worker-events.ts';
import { WorkerService } from '../worker-service.ts';
import { CredentialSweeper } from './credential-sweeper.ts';
import { LeaderElection } from './leader-election.ts';
import { PRUNE_BUDGET_MS, Pruner } from './pruner.ts';
import { Rescuer } from './rescuer.ts';
import { Rollup } from './rollup.ts';
import { Scheduler } from './scheduler.ts';
import { StorageWatch } from './storage-watch.ts';
import { WorkerReaper } from './worker-reaper.ts';
import type { QuotaConfig } from '../../core/quota.ts';

export interface MaintenanceDeps {
  engine: Engine;
  clock: Clock;
  logger: Logger;
  workerId: string;
  intervalMs: number;
  maxRescues: number;
  retentionMs: number;
  /** Workers silent for this long are forgotten. */
  workerStaleMs: number;
  /** What a schedule's firing counts against: its owner's role's quotas. */
  quotas: QuotaConfig;
  /** Hears `tasks-available` after the rescuer or the scheduler made tasks due, so the local producer claims them at once. */
  events: WorkerEventEmitter;
}

/** Pruning and reaping need not run every round. */
const SLOW_JOBS_EVERY_MS = 60_000;
/**
 * Nor the look at the database's health and the sweep of expired sessions and account tokens: their
 * problems take minutes to matter (and an idle worker's statements count).
 */
const STORAGE_CHECK_EVERY_MS = 5 * 60_000;

/**
 * Every worker runs this loop; only the elected leader does the work. Each round: keep or take the
 * leadership, rescue expired leases, fire due schedules and roll up the minutes that settled; every minute or so also prune and reap
 * stale workers, and every five minutes look at the database's health and delete expired sessions and account tokens. Between rounds the leader keeps a timer for the next schedule, so a firing is on
 * time rather than up to a round late; a schedule created or changed elsewhere is seen by the next
 * round. A round that fails (the database is away) is tried again after a backoff of at most a round.
 */
export class Maintenance extends WorkerService {
  protected readonly name = 'maintenance';
  readonly election: LeaderElection;
  readonly rescuer: Rescuer;
  readonly pruner: Pruner;
  readonly reaper: WorkerReaper;
  readonly scheduler: Scheduler;
  readonly storage: StorageWatch;
  readonly rollup: Rollup;
  readonly credentials: CredentialSweeper;
  readonly #deps: MaintenanceDeps;
  #schedulerTimer: ClockTimer | null = null;
  #firing: Promise<void> | null = null;
  /** The wait before the next round; 0 after a failed one (the supervisor's backoff came first). */
  #nextRoundInMs = 0;
  #slowJobsAt = 0;
  #storageCheckAt = 0;

  constructor(deps: MaintenanceDeps) {
    super(deps);
    this.#deps = deps;
    const { engine, clock, logger } = deps;
    const log = logger.child({ component: 'maintenance' });
    // Three rounds of slack: a leader that misses one renewal keeps its place.
    this.election = new LeaderElection({ engine, clock, logger: log, name: 'maintenance', leaderId: deps.workerId, ttlMs: deps.intervalMs * 3 });
    this.rescuer = new Rescuer({ engine, clock, logger: log, maxRescues: deps.maxRescues });
    // A prune run holds up the round: at most one interval, so the leadership (renewed each round,
    // held for three intervals) never lapses while it prunes.
    this.pruner = new Pruner({ engine, clock, logger: log, retentionMs: deps.retentionMs, budgetMs: Math.min(PRUNE_BUDGET_MS, deps.intervalMs) });
    this.reaper = new WorkerReaper({ engine, clock, logger: log, staleMs: deps.workerStaleMs });
    this.scheduler = new Scheduler({ engine, clock, logger: log.child({ component: 'scheduler' }), quotas: deps.quotas });
    this.storage = new StorageWatch({ engine, clock, logger: log });
    this.rollup = new Rollup({ engine, clock, logger: log });
    this.credentials = new CredentialSweeper({ engine, clock, logger: log });
  }

  /**
   * The first round comes one interval after start, at a random point of it: nothing is urgent at
   * start-up (expired leases wait at most one interval more), and workers started together then do
   * not all run their rounds at the same moment. Pruning and reaping start a minute in.
   */
  override start(): void {
    if (!this.stopping) return;
    this.#slowJobsAt = this.clock.nowMs() + SLOW_JOBS_EVERY_MS;
    this.#nextRoundInMs = Math.round(this.#deps.intervalMs * (0.5 + Math.random() / 2));
    super.start();
  }

  protected maxBackoffMs(): number {
    return this.#deps.intervalMs;
  }

  protected override crashMessage(): string {
    return 'maintenance round failed; retrying';
  }

  protected async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.#nextRoundInMs > 0) {
        await this.wait(this.#nextRoundInMs);
        if (this.stopping) return;
      }
      this.#nextRoundInMs = 0;
      await this.runOnce();
      this.recovered();
      this.#nextRoundInMs = this.#deps.intervalMs;
    }
  }

  override async stop(): Promise<void> {
    await super.stop();
    this.#disarmScheduler();
    await this.#firing;
    try {
      await this.election.resign();
    } catch (error) {
      this.logger.debug({ err: error }, 'could not resign the maintenance leadership; it expires by itself');
    }
  }

  /** One round; returns whether this worker led it. */
  async runOnce(): Promise<boolean> {
    if (!(await this.election.runOnce())) {
      this.#disarmScheduler();
      return false;
    }
    const rescued = await this.rescuer.runOnce();
    if (rescued.retried.length > 0) this.#deps.events.emit('tasks-available');
    await this.#fireSchedules();
    await this.rollup.runOnce();
    const now = this.clock.nowMs();
    if (now >= this.#slowJobsAt) {
      this.#slowJobsAt = now + SLOW_JOBS_EVERY_MS;
      await this.pruner.runOnce();
      await this.reaper.runOnce();
      if (now >= this.#storageCheckAt) {
        this.#storageCheckAt = now + STORAGE_CHECK_EVERY_MS;
        await this.storage.runOnce();
        await this.credentials.runOnce();
      }
    }
    return true;
  }

  /** One scheduler run at a time, whether a round or the timer started it; then the timer for the next. */
  async #fireSchedules(): Promise<void> {
    while (this.#firing) await this.#firing;
    const run = (async () => {
      const { fired, nextRunAt } = await this.scheduler.runOnce();
      if (fired.length > 0) this.#deps.events.emit('tasks-available');
      this.#armScheduler(nextRunAt);
    })();
    // Whoever waits on the next run need not hear of this one's failure: its caller does.
    this.#firing = run
      .catch(() => {})
      .finally(() => {
        this.#firing = null;
      });
    await run;
  }

  /** A timer for a schedule due before the next round; later ones are the next round's. */
  #armScheduler(at: Date | null): void {
    this.#disarmScheduler();
    if (at === null || this.stopping) return;
    const delayMs = Math.max(0, at.getTime() - this.clock.nowMs());
    if (delayMs >= this.#deps.intervalMs) return;
    this.#schedulerTimer = this.clock.setTimeout(this.#scheduleDue, delayMs);
  }

  readonly #scheduleDue = (): void => {
    this.#schedulerTimer = null;
    if (!this.election.isLeader || this.stopping) return;
    this.#fireSchedules().catch((error: unknown) => this.logger.warn({ err: error }, 'firing schedules failed; retrying next round'));
  };

  #disarmScheduler(): void {
    this.clock.clearTimeout(this.#schedulerTimer);
    this.#schedulerTimer = null;
  }
}
