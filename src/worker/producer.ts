import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../core/clock.ts';
import { decideStart } from '../core/lifecycle.ts';
import type { Logger } from '../core/logger.ts';
import { PRIORITY_RANK, type ClaimedTask } from '../core/task.ts';
import type { Engine } from '../store/engine.ts';
import { RunningTask } from './running-task.ts';
import { StartRecorder } from './start-recorder.ts';
import type { TaskSlots } from './task-slots.ts';
import type { WorkerEventEmitter } from './worker-events.ts';
import { WorkerService } from './worker-service.ts';

export interface ProducerDeps {
  engine: Engine;
  clock: Clock;
  logger: Logger;
  /** What the producer hears (slots freed, tasks due, breakers opened...) and tells (tasks claimed, handed back). */
  events: WorkerEventEmitter;
  /** Where claimed tasks start. */
  slots: TaskSlots;
  /** The circuit breakers as this worker sees them: a claimed task of an open type or scope goes back instead of starting. */
  breakers: { isOpen(taskType: string, scope: string | null): boolean };
  workerId: string;
  taskTypes: readonly string[];
  leaseMs: number;
  pollIntervalMs: number;
  /** Fair sharing of slots between owners (Engine.taskClaim's fairShare); 1 or absent: off. */
  fairShare?: number;
}

/** Without insert notifications (none subscribed, or the subscription failed), poll at least this often. */
const UNNOTIFIED_POLL_MS = 1000;
/** The longest wait between claims that fail (the database away): a restart is noticed within it. */
const MAX_CLAIM_BACKOFF_MS = 2000;

/**
 * Claims on their way at once. One, with claims of up to PREFETCH_CLAIM_MAX: two at once (of half that
 * size) kept the queue no better fed, and statements that overlap cost PostgreSQL more per task
 * (measured together with the completions: store/postgres/finish.ts, COMPLETE_IN_FLIGHT).
 */
const MAX_CLAIMS_IN_FLIGHT = 1;
/**
 * How much work a worker claims ahead of its free slots, in time: the tasks its slots will take
 * within this long, judging by how long its recent tasks held a slot (concurrency × horizon ÷ mean
 * duration). Tasks that take a millisecond make that hundreds per claim, so a claim's round trip and
 * commit are spread over hundreds of tasks; one-second tasks at concurrency 10 make it one, so slow
 * work is never held back from other workers. Until a task has finished, nothing is claimed ahead.
 */
const PREFETCH_HORIZON_MS = 100;
/** The most tasks waiting locally for a slot. */
const PREFETCH_MAX = 1000;
/** The largest claim beyond the free slots. */
const PREFETCH_CLAIM_MAX = 500;
/** Weight of the latest task in the moving average of how long tasks hold a slot. */
const DURATION_WEIGHT = 0.2;
/**
 * A claimed task that waited this long for a slot goes back (slots busier than expected: a slow
 * task arrived among fast ones); another worker may have room for it. Checked every quarter of it.
 */
const QUEUE_MAX_WAIT_MS = 1000;
/** Claimed tasks start in the producer's queue. */
const QUEUED = Object.freeze({ queued: true });
/**
 * How long after a claimed-ahead task starts its start is written down (StartRecorder), batched with
 * the others of that window and only if it still runs: tasks shorter than this cost no write.
 */
const START_RECORD_DELAY_MS = 100;

/**
 * Claims work and hands it to free slots. Whenever slots are free it claims in one round trip; a slow
 * task holds only its own slot. While the queue has a backlog (the last claim got all it asked for),
 * it also claims ahead: tasks it will start within PREFETCH_HORIZON_MS at its current pace wait in a
 * local queue, in claim order, and start the moment a slot frees, so that claims are few and large.
 * Their leases are held like those of running tasks (renewed, fenced); a queued task whose
 * cancellation is requested, whose breaker opens, or that is still waiting at shutdown is handed back
 * with taskUnclaim, as if never claimed.
 *
 * Fair rescues (core/lifecycle.ts decideRescue, decideStart): a claim tells the engine how many of its
 * tasks fill free slots at once (`startNow`), which count as started; a claimed-ahead task's start is
 * written down shortly after it starts (StartRecorder), so a worker that dies takes only the attempts
 * that ran against max_rescues. A task rescued before runs alone: the producer hands back its other
 * queued tasks, claims and starts nothing while its running tasks end, records the task's start, runs
 * it, and resumes once it ended; a poison so takes no innocent task along. A task lost before its
 * start was written has its next start written before its handler runs.
 *
 * Once a claim comes back short, the queue is taken to be drained: nothing more is claimed until an
 * insert notification, a task coming due (the next due time is asked for after an empty claim, and
 * the worker's own retries are known when written), or the poll timer, the fallback for lost
 * notifications. An idle worker so costs one claim per poll interval.
 *
 * A claim that fails (the database is away) crashes the loop: the supervisor (WorkerService) logs it
 * and starts the loop again after a backoff, as it does for any other error in it.
 */
export class Producer extends WorkerService {
  protected readonly name = 'claiming';
  readonly #deps: ProducerDeps;
  readonly #slots: TaskSlots;
  readonly #inFlight = new Set<Promise<void>>();
  /** Tasks asked for by claims in flight. */
  #reserved = 0;
  /** The last claim got every task it asked for, so more are probably waiting. */
  #backlog = true;
  /** Something happened that may have made tasks claimable (an insert, a due time, the poll timer). */
  #wanted = true;
  /** The error of a claim that failed; the loop throws it, for the supervisor to back off. */
  #claimError: { error: unknown } | null = null;
  /** The last claim error thrown, to tell it from other crashes in the log. */
  #claimErrorSeen: unknown = undefined;
  /** When (by the clock, epoch ms) a waiting task comes due; null when none is known. */
  #dueAt: number | null = null;
  /** Claimed tasks waiting for a slot, in claim order, from #head on; entries no longer `queued` are skipped. */
  #queue: RunningTask[] = [];
  #head = 0;
  #queuedCount = 0;
  /** Tasks to hand back, and the taskUnclaim call in flight. */
  #toUnclaim: RunningTask[] = [];
  #unclaiming: Promise<void> | null = null;
  /** When (by the clock) queued tasks were last looked at for waiting too long. */
  #expiryCheckedAt = 0;
  /** Insert notifications reach this worker, so the poll is only a fallback. */
  #notified = false;
  /** How long recent tasks held a slot, on average (ms); null until one has finished. */
  #meanDurationMs: number | null = null;
  /** Slots that the tasks of claims in flight counted as started will fill. */
  #reservedStarts = 0;
  /** Tasks whose start is being written before their handler runs (decideStart's recordFirst); each holds a slot meanwhile. */
  readonly #recording = new Set<RunningTask>();
  readonly #recordings = new Set<Promise<void>>();
  /** The task that runs alone (decideStart), and how far it got: waiting for the running tasks to end, its start being written, running. */
  #alone: { running: RunningTask; stage: 'waiting' | 'recording' | 'running' } | null = null;
  readonly #starts: StartRecorder;

  constructor(deps: ProducerDeps) {
    super(deps);
    this.#deps = deps;
    this.#slots = deps.slots;
    this.#starts = new StartRecorder({
      engine: deps.engine,
      clock: deps.clock,
      logger: deps.logger,
      workerId: deps.workerId,
      isRunning: (running) => deps.slots.isRunning(running),
      delayMs: START_RECORD_DELAY_MS,
    });
    const { events } = deps;
    events.on('slot-freed', (heldMs) => this.slotFreed(heldMs));
    events.on('task-due', (at) => this.wakeAt(at));
    events.on('tasks-available', () => this.wake());
    events.on('notifications', (working) => this.notificationsWork(working));
    events.on('breaker-opened', (taskType, scope, reopensAt) => {
      // Claimed tasks of the type (or scope) go back at once rather than wait out the open period here,
      // and claims of them resume when it half-opens, without waiting for the poll timer.
      this.releaseType(taskType, scope);
      if (reopensAt) this.wakeAt(new Date(reopensAt.getTime() + 10));
    });
    events.on('task-finished', (running) => {
      // Once written, the attempt no longer counts against its type's limit: a waiting task of the
      // type may be claimed now, by this worker, rather than at the next look.
      if (running.task.limited) this.wake();
      if (this.#alone === null) return;
      if (this.#alone.running === running) {
        // The task that ran alone is over: claiming and starting resume.
        this.#alone = null;
        this.wake();
      }
      this.#fill();
    });
  }

  /** One function for every queued task (made once, not per task). */
  readonly #onQueuedAbort = (running: RunningTask): void => this.#evict(running, 'aborted');

  protected maxBackoffMs(): number {
    return Math.min(MAX_CLAIM_BACKOFF_MS, this.#pollMs());
  }

  protected override crashMessage(error: unknown): string {
    return this.#claimErrorSeen === error ? 'could not claim tasks; retrying' : 'the claim loop failed; restarting it';
  }

  protected override recoveredMessage(): string {
    return 'claiming works again';
  }

  /** Something may be claimable now (an insert, a release, a breaker reopening). */
  override wake(): void {
    this.#wanted = true;
    super.wake();
  }

  /**
   * A slot freed: a queued task starts in it at once; the loop claims more if the queue ran low.
   * `heldMs` is how long the task that ends held it (it sizes the prefetch).
   */
  slotFreed(heldMs: number | null = null): void {
    if (heldMs !== null) {
      const sample = Math.max(0, heldMs);
      this.#meanDurationMs = this.#meanDurationMs === null ? sample : this.#meanDurationMs + (sample - this.#meanDurationMs) * DURATION_WEIGHT;
    }
    this.#fill();
    super.wake();
  }

  /** Whether insert notifications reach this worker; without them it polls at least every second. */
  notificationsWork(working: boolean): void {
    if (this.#notified === working) return;
    this.#notified = working;
    super.wake();
  }

  /** A waiting task comes due at `at` (a retry this worker wrote, a schedule): claim then. */
  wakeAt(at: Date): void {
    const deadline = Math.max(at.getTime(), this.clock.nowMs()) + 1;
    if (this.#dueAt !== null && this.#dueAt <= deadline) return;
    this.#dueAt = deadline;
    // Let the loop shorten its wait.
    super.wake();
  }

  /** Tasks claimed and waiting for a slot: their leases must be renewed like running ones. */
  *queued(): Iterable<RunningTask> {
    for (let i = this.#head; i < this.#queue.length; i++) {
      const running = this.#queue[i]!;
      if (running.queued) yield running;
    }
  }

  /** Tasks claimed and not started: queued, or their start being written before their handler runs. */
  *unstarted(): Iterable<RunningTask> {
    yield* this.queued();
    yield* this.#recording;
  }

  /** The task running alone (or waiting to) because it was rescued before; null when none. */
  get aloneTask(): RunningTask | null {
    return this.#alone?.running ?? null;
  }

  get queuedCount(): number {
    return this.#queuedCount;
  }

  /** Hands back, as not started, every queued task of a type whose breaker opened (scope null), or of that type and scope. */
  releaseType(taskType: string, scope: string | null = null): void {
    for (const running of this.queued()) {
      if (running.task.taskType === taskType && (scope === null || running.task.breakerScope === scope)) this.#evict(running, 'breaker');
    }
  }

  /** Stops claiming and starting; resolves once no claim is in flight. Queued tasks stay until releaseQueued(). */
  override async stop(): Promise<void> {
    await super.stop();
    await Promise.all(this.#inFlight);
    this.#starts.stop();
  }

  /** Hands back every queued task (shutdown); resolves once the database has them. */
  async releaseQueued(): Promise<void> {
    // A start being written ends in a slot or handed back (stopping: handed back).
    await Promise.all(this.#recordings);
    for (const running of this.queued()) this.#evict(running, 'shutdown');
    while (this.#unclaiming) await this.#unclaiming;
  }

  /** One claim for the free slots (and the prefetch); resolves with how many tasks it claimed. Throws what the engine throws. */
  async runOnce(): Promise<number> {
    // Hand-backs first: a task handed back because its breaker opened must be back before the next
    // claim, which would otherwise look as if it had started while the breaker was open.
    while (this.#unclaiming) await this.#unclaiming;
    const limit = this.#demand();
    if (limit <= 0) return 0;
    const { engine, workerId, taskTypes, leaseMs, fairShare } = this.#deps;
    const { clock } = this;
    // The first tasks go to free slots at once: the claim counts them as started.
    const startNow = Math.max(0, Math.min(limit, this.#freeSlots() - this.#reservedStarts));
    this.#reserved += limit;
    this.#reservedStarts += startNow;
    try {
      const now = clock.now();
      const tasks = await engine.taskClaim({ workerId, taskTypes, limit, now, leaseMs, startNow, fairShare });
      this.#backlog = tasks.length === limit;
      this.#reserved -= limit;
      this.#reservedStarts -= startNow;
      if (tasks.length > 0) this.#enqueue(tasks, now.getTime());
      else await this.#learnNextDue(now);
      return tasks.length;
    } catch (error) {
      this.#reserved -= limit;
      this.#reservedStarts -= startNow;
      throw error;
    }
  }

  protected async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.#claimError) {
        const { error } = this.#claimError;
        this.#claimError = null;
        this.#claimErrorSeen = error;
        throw error;
      }
      this.#fill();
      this.#expireQueued();
      if (this.#canClaim()) {
        this.#wanted = false;
        this.#startClaim();
      } else {
        const notified = await this.wait(this.#waitMs());
        // The timer: the poll interval passed, or a waiting task came due. Either way, look again.
        if (!notified) {
          this.#wanted = true;
          if (this.#dueAt !== null && this.clock.nowMs() >= this.#dueAt) this.#dueAt = null;
        }
      }
      // Let the other slots that free in this same turn land, so that one claim fills them all.
      await nextTurn();
    }
  }

  #pollMs(): number {
    return this.#notified ? this.#deps.pollIntervalMs : Math.min(this.#deps.pollIntervalMs, UNNOTIFIED_POLL_MS);
  }

  #waitMs(): number {
    let waitMs = this.#pollMs();
    if (this.#dueAt !== null) waitMs = Math.min(waitMs, this.#dueAt - this.clock.nowMs());
    if (this.#queuedCount > 0) waitMs = Math.min(waitMs, QUEUE_MAX_WAIT_MS / 4);
    return Math.max(0, waitMs);
  }

  /** Hands back queued tasks that waited longer than QUEUE_MAX_WAIT_MS for a slot. */
  #expireQueued(): void {
    if (this.#queuedCount === 0) return;
    const checkedAt = this.clock.nowMs();
    if (checkedAt - this.#expiryCheckedAt < QUEUE_MAX_WAIT_MS / 4) return;
    this.#expiryCheckedAt = checkedAt;
    const tooOld = checkedAt - QUEUE_MAX_WAIT_MS;
    let expired = 0;
    for (const running of this.queued()) {
      // The task waiting to run alone waits for this worker's running tasks, not for a slot.
      if (running.startedAtMs > tooOld || running === this.#alone?.running) continue;
      this.#evict(running, 'waited');
      expired += 1;
    }
    if (expired > 0) this.logger.debug({ tasks: expired }, 'handed back claimed tasks that waited too long for a slot');
  }

  /**
   * How many tasks a claim now should ask for: the free slots, plus, while there is a backlog, what
   * the prefetch lacks, at most PREFETCH_CLAIM_MAX at a time.
   */
  #demand(target = this.#backlog ? this.#prefetchTarget() : 0): number {
    // Nothing is claimed while a task runs alone, or waits to.
    if (this.#alone !== null) return 0;
    const free = Math.max(0, this.#freeSlots());
    const demand = free + target - this.#queuedCount - this.#reserved;
    return demand <= 0 ? 0 : Math.min(demand, free + PREFETCH_CLAIM_MAX);
  }

  #canClaim(): boolean {
    if (this.stopping || this.#claimError !== null) return false;
    const target = this.#backlog ? this.#prefetchTarget() : 0;
    const demand = this.#demand(target);
    if (demand <= 0) return false;
    // Topping up the prefetch (no slot free): only for a claim of some size.
    if (this.#freeSlots() <= 0 && demand * 2 < Math.min(target, PREFETCH_CLAIM_MAX)) return false;
    // With a backlog, keep claiming (MAX_CLAIMS_IN_FLIGHT at once); otherwise only when there is news.
    if (this.#inFlight.size === 0) return this.#wanted || this.#backlog;
    return this.#backlog && this.#inFlight.size < MAX_CLAIMS_IN_FLIGHT;
  }

  #startClaim(): void {
    const claim = this.runOnce().then(
      () => {
        this.recovered();
        // Look again: with a backlog, claim more at once if there is room; and news that came while
        // this claim was on its way (an insert it may have missed) is acted on now, not at the poll.
        super.wake();
      },
      (error: unknown) => {
        // The loop throws it: the supervisor logs it and backs off (the database is usually restarting).
        this.#claimError ??= { error };
        super.wake();
      },
    );
    this.#inFlight.add(claim);
    void claim.finally(() => this.#inFlight.delete(claim));
  }

  /** After an empty claim: when the next waiting task comes due, to wake then. A hint: failures are only logged. */
  async #learnNextDue(now: Date): Promise<void> {
    try {
      const next = await this.#deps.engine.taskNextDueAt({ taskTypes: this.#deps.taskTypes, now });
      if (next !== null) this.wakeAt(next);
    } catch (error) {
      this.logger.debug({ err: error }, 'could not read when the next task comes due; the poll timer stands in');
    }
  }

  /** Claimed tasks join the queue in claim order (an urgent task claimed later goes ahead of what waits). */
  #enqueue(tasks: ClaimedTask[], claimedAtMs: number): void {
    const { workerId, leaseMs, logger, events } = this.#deps;
    const waiting = this.#queue.length - this.#head;
    const last = waiting > 0 ? this.#queue[this.#queue.length - 1]!.task : null;
    let lone: RunningTask | null = null;
    for (const task of tasks) {
      const running = new RunningTask(task, workerId, claimedAtMs, leaseMs, logger, QUEUED);
      // A queued task's lease can be lost, or its cancellation requested (both seen by the lease keeper).
      running.setAbortHandler(this.#onQueuedAbort);
      this.#queue.push(running);
      events.emit('task-claimed', running);
      if (lone === null && task.rescueCount > 0 && decideStart(task).alone) lone = running;
    }
    this.#queuedCount += tasks.length;
    if (last !== null && compareClaimOrder(tasks[0]!, last) < 0) {
      const pending = this.#queue.slice(this.#head).sort((a, b) => compareClaimOrder(a.task, b.task));
      this.#queue = pending;
      this.#head = 0;
    }
    if (this.#alone === null && lone !== null) {
      this.#alone = { running: lone, stage: 'waiting' };
      lone.logger.info({ rescues: lone.task.rescueCount }, 'a started attempt of this task was lost with its worker: it runs alone');
    }
    // While a task runs alone (or waits to), whatever else is claimed goes back.
    if (this.#alone !== null) for (const running of this.queued()) if (running !== this.#alone.running) this.#evict(running, 'alone');
    this.#fill();
  }

  /** Free slots, less those held by tasks whose start is being written. */
  #freeSlots(): number {
    return this.#slots.free() - this.#recording.size;
  }

  /**
   * The task that runs alone: once nothing else runs here (handlers ended and their outcomes
   * written), its start is written and it takes a slot. If it left the queue meanwhile (its lease was
   * lost, its breaker opened, shutdown), the worker goes back to normal.
   */
  #advanceAlone(): void {
    const alone = this.#alone!;
    if (alone.stage !== 'waiting') return;
    if (!alone.running.queued) {
      this.#alone = null;
      this.wake();
      this.#fill();
      return;
    }
    if (this.#slots.heldCount > 0 || this.#recording.size > 0) return;
    alone.running.leaveQueue();
    this.#queuedCount -= 1;
    alone.stage = 'recording';
    this.#recordThenStart(alone.running);
  }

  /** Writes down that this task starts, then starts it: its loss from now on counts against max_rescues. */
  #recordThenStart(running: RunningTask): void {
    const { engine, workerId, logger } = this.#deps;
    this.#recording.add(running);
    const recorded = engine.taskStartRecord({ workerId, starts: [{ lease: running.lease, startedAt: this.clock.now() }] }).then(
      (ids) => {
        this.#recording.delete(running);
        const alone = this.#alone?.running === running ? this.#alone : null;
        if (ids.length === 1 && !this.stopping) {
          running.setAbortHandler(null);
          if (alone) alone.stage = 'running';
          this.#slots.occupy(running);
          return;
        }
        if (alone) this.#alone = null;
        if (ids.length === 1) this.#unclaim(running);
        else running.logger.warn({}, 'lease lost before the task started: another worker owns it now');
      },
      (error: unknown) => {
        this.#recording.delete(running);
        if (this.#alone?.running === running) this.#alone = null;
        logger.warn({ err: error, task_id: running.task.id }, 'could not record that a task starts; handing it back');
        this.#unclaim(running);
      },
    );
    const settled = recorded.finally(() => {
      this.#recordings.delete(settled);
      this.#fill();
      super.wake();
    });
    this.#recordings.add(settled);
  }

  /** Starts queued tasks in the free slots. */
  #fill(): void {
    if (this.stopping) return;
    if (this.#alone !== null) {
      this.#advanceAlone();
      return;
    }
    let free = this.#freeSlots();
    while (free > 0 && this.#head < this.#queue.length) {
      const running = this.#queue[this.#head]!;
      this.#head += 1;
      if (!running.leaveQueue()) continue;
      this.#queuedCount -= 1;
      if (this.#deps.breakers.isOpen(running.task.taskType, running.task.breakerScope)) {
        this.#unclaim(running);
        continue;
      }
      free -= 1;
      if (!running.task.startRecorded && decideStart(running.task).recordFirst) {
        this.#recordThenStart(running);
        continue;
      }
      running.setAbortHandler(null);
      this.#slots.occupy(running);
      // Claimed ahead: its start is written shortly, if it still runs then.
      if (!running.task.startRecorded) this.#starts.add(running);
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #evict(running: RunningTask, why: 'aborted' | 'breaker' | 'shutdown' | 'waited' | 'alone'): void {
    if (!running.leaveQueue()) return;
    this.#queuedCount -= 1;
    if (why === 'aborted' && running.abortKind === 'lease_lost') {
      running.logger.warn({}, 'lease lost before the task started: another worker owns it now');
      return;
    }
    // Cancelled while queued: taskUnclaim ends it cancelled.
    this.#unclaim(running);
  }

  #unclaim(running: RunningTask): void {
    this.#deps.events.emit('task-unclaimed', running);
    this.#toUnclaim.push(running);
    this.#flushUnclaims();
  }

  /** One taskUnclaim for everything waiting to go back; more that arrive meanwhile go in the next. */
  #flushUnclaims(): void {
    if (this.#unclaiming !== null || this.#toUnclaim.length === 0) return;
    const batch = this.#toUnclaim;
    this.#toUnclaim = [];
    const { engine, clock, workerId, logger } = this.#deps;
    this.#unclaiming = engine
      .taskUnclaim({ workerId, leases: batch.map((running) => running.lease), now: clock.now() })
      .then(
        ({ released, cancelled }) => {
          if (released.length > 0) logger.debug({ released: released.length }, 'handed back claimed tasks that had not started');
          for (const id of cancelled) logger.info({ task_id: id }, 'task cancelled before it started');
        },
        (error: unknown) => {
          // Their leases expire and the rescuer makes them due again.
          logger.warn({ err: error, tasks: batch.length }, 'could not hand back claimed tasks that had not started; they return when their leases expire');
        },
      )
      .finally(() => {
        this.#unclaiming = null;
        this.#flushUnclaims();
        super.wake();
      });
  }

  /**
   * Claims ahead of the free slots: what its slots take in PREFETCH_HORIZON_MS at the recent pace.
   * Slots busy for much longer than tasks lately took are not about to free up, so they do not count:
   * a slow task among fast ones does not keep a queue waiting behind it.
   */
  #prefetchTarget(): number {
    const mean = this.#meanDurationMs;
    if (mean === null) return 0;
    const stuckBefore = this.clock.nowMs() - Math.max(mean * 4, QUEUE_MAX_WAIT_MS);
    const slots = this.#slots.concurrency - this.#slots.runningSince(stuckBefore);
    if (slots <= 0) return 0;
    return Math.min(PREFETCH_MAX, Math.floor((slots * PREFETCH_HORIZON_MS) / Math.max(mean, 0.01)));
  }
}

/** Claim order: critical > high > normal > low, then due time, then creation (UUIDv7 ids sort by time). */
function compareClaimOrder(a: ClaimedTask, b: ClaimedTask): number {
  return PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.runAt.getTime() - b.runAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
