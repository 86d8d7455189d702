import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { Engine } from '../../store/engine.ts';
import { LeaderElection } from './leader-election.ts';
import { Pruner } from './pruner.ts';
import { Rescuer } from './rescuer.ts';
import { Scheduler } from './scheduler.ts';
import { StorageWatch } from './storage-watch.ts';
import { WorkerReaper } from './worker-reaper.ts';

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
  /** Called after the rescuer or the scheduler made tasks due, so the local producer can claim them at once. */
  onTasksDue(): void;
}

/** Pruning and reaping need not run every round. */
const SLOW_JOBS_EVERY_MS = 60_000;
/** Nor the look at the database's health: its problems take minutes to matter (and an idle worker's statements count). */
const STORAGE_CHECK_EVERY_MS = 5 * 60_000;

/**
 * Every worker runs this loop; only the elected leader does the work. Each round: keep or take the
 * leadership, rescue expired leases and fire due schedules; every minute or so also prune and reap
 * stale workers, and every five minutes look at the database's health. Between rounds the leader keeps a timer for the next schedule, so a firing is on
 * time rather than up to a round late; a schedule created or changed elsewhere is seen by the next
 * round.
 */
export class Maintenance {
  readonly election: LeaderElection;
  readonly rescuer: Rescuer;
  readonly pruner: Pruner;
  readonly reaper: WorkerReaper;
  readonly scheduler: Scheduler;
  readonly storage: StorageWatch;
  readonly #deps: MaintenanceDeps;
  #timer: NodeJS.Timeout | null = null;
  #round: Promise<void> | null = null;
  #schedulerTimer: NodeJS.Timeout | null = null;
  #firing: Promise<void> | null = null;
  #stopped = true;
  #slowJobsAt = 0;
  #storageCheckAt = 0;
  #failing = false;

  constructor(deps: MaintenanceDeps) {
    this.#deps = deps;
    const { engine, clock, logger } = deps;
    const log = logger.child({ component: 'maintenance' });
    // Three rounds of slack: a leader that misses one renewal keeps its place.
    this.election = new LeaderElection({ engine, clock, logger: log, name: 'maintenance', leaderId: deps.workerId, ttlMs: deps.intervalMs * 3 });
    this.rescuer = new Rescuer({ engine, clock, logger: log, maxRescues: deps.maxRescues });
    this.pruner = new Pruner({ engine, clock, logger: log, retentionMs: deps.retentionMs });
    this.reaper = new WorkerReaper({ engine, clock, logger: log, staleMs: deps.workerStaleMs });
    this.scheduler = new Scheduler({ engine, clock, logger: log.child({ component: 'scheduler' }) });
    this.storage = new StorageWatch({ engine, clock, logger: log });
  }

  /**
   * The first round comes one interval after start, at a random point of it: nothing is urgent at
   * start-up (expired leases wait at most one interval more), and workers started together then do
   * not all run their rounds at the same moment. Pruning and reaping start a minute in.
   */
  start(): void {
    this.#stopped = false;
    this.#slowJobsAt = this.#deps.clock.nowMs() + SLOW_JOBS_EVERY_MS;
    this.#schedule(Math.round(this.#deps.intervalMs * (0.5 + Math.random() / 2)));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#disarmScheduler();
    await this.#round;
    await this.#firing;
    try {
      await this.election.resign();
    } catch (error) {
      this.#deps.logger.debug({ err: error }, 'could not resign the maintenance leadership; it expires by itself');
    }
  }

  /** One round; returns whether this worker led it. */
  async runOnce(): Promise<boolean> {
    if (!(await this.election.runOnce())) {
      this.#disarmScheduler();
      return false;
    }
    const rescued = await this.rescuer.runOnce();
    if (rescued.retried.length > 0) this.#deps.onTasksDue();
    await this.#fireSchedules();
    const now = this.#deps.clock.nowMs();
    if (now >= this.#slowJobsAt) {
      this.#slowJobsAt = now + SLOW_JOBS_EVERY_MS;
      await this.pruner.runOnce();
      await this.reaper.runOnce();
      if (now >= this.#storageCheckAt) {
        this.#storageCheckAt = now + STORAGE_CHECK_EVERY_MS;
        await this.storage.runOnce();
      }
    }
    return true;
  }

  /** One scheduler run at a time, whether a round or the timer started it; then the timer for the next. */
  async #fireSchedules(): Promise<void> {
    while (this.#firing) await this.#firing;
    const run = (async () => {
      const { fired, nextRunAt } = await this.scheduler.runOnce();
      if (fired.length > 0) this.#deps.onTasksDue();
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
    if (at === null || this.#stopped) return;
    const delayMs = Math.max(0, at.getTime() - this.#deps.clock.nowMs());
    if (delayMs >= this.#deps.intervalMs) return;
    this.#schedulerTimer = setTimeout(() => {
      this.#schedulerTimer = null;
      if (!this.election.isLeader || this.#stopped) return;
      this.#fireSchedules().catch((error: unknown) => this.#deps.logger.warn({ err: error }, 'firing schedules failed; retrying next round'));
    }, delayMs);
  }

  #disarmScheduler(): void {
    if (this.#schedulerTimer) clearTimeout(this.#schedulerTimer);
    this.#schedulerTimer = null;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#round = this.runOnce()
        .then(() => {
          if (this.#failing) this.#deps.logger.info({}, 'maintenance works again');
          this.#failing = false;
        })
        .catch((error: unknown) => {
          if (!this.#failing) this.#deps.logger.warn({ err: error }, 'maintenance round failed; retrying next round');
          this.#failing = true;
        })
        .finally(() => {
          this.#round = null;
          this.#schedule(this.#deps.intervalMs);
        });
    }, delayMs);
  }
}
