import type { BreakerConfig } from '../core/circuit-breaker.ts';
import { DEFAULT_BREAKER_CONFIG } from '../core/circuit-breaker.ts';
import { ConveyorError, ERROR_CODES } from '../core/errors.ts';
import { defaultEventLoopMaxBlockMs } from './event-loop-watchdog.ts';

/**
 * The settings a worker runs with. Keys are snake_case because they mirror the configuration names
 * (`CONVEYOR__WORKER__LEASE_MS` is `worker.lease_ms`), so the CLI's resolved config can be handed to a
 * Worker as it is.
 */
export interface WorkerSettings {
  /** Tasks run at once by this process. */
  concurrency: number;
  /**
   * The fallback poll: how often an idle worker looks for due tasks without being told. Inserts (and
   * tasks due again: released, rescued, retried by hand) wake workers at once through notifications,
   * and scheduled tasks and retries wake them when due, so this only bounds how late a task can be
   * found if a notification is lost. Idle cost is one claim per interval. While the worker has no
   * notification subscription it polls at least every second.
   */
  poll_interval_ms: number;
  /** How long a claim holds a task before the rescuer may take it back. */
  lease_ms: number;
  /** How often held leases are renewed and cancel requests are picked up (must be well under lease_ms). */
  heartbeat_ms: number;
  /** On SIGTERM, how long running handlers may take before they are aborted and handed back. */
  shutdown_grace_ms: number;
  /** Task types this worker takes; empty means every registered type. */
  task_types: readonly string[];
  /** Lease expiries a task survives before it goes to the dead letter (a task that kills workers). */
  max_rescues: number;
  /** How often the leader runs the rescuer (and, less often, the pruner). */
  maintenance_interval_ms: number;
  /** Finished tasks older than this are deleted by the pruner; 0 keeps them forever. */
  retention_ms: number;
  /**
   * Fair sharing of slots between owners (core/fair-share.ts): while another owner waits, an owner
   * holding more than this share of the running tasks is claimed for after the owners under it. 1: off.
   */
  fair_share: number;
  /**
   * The event-loop watchdog: a worker whose own thread stays blocked this long (a handler's busy
   * loop) is killed, so its supervisor starts a fresh one; 0 turns the watchdog off.
   */
  event_loop_max_block_ms: number;
}

/** Mirrors the `breaker.*` settings; the guide's defaults. */
export interface BreakerSettings {
  failure_threshold: number;
  success_threshold: number;
  open_ms: number;
}

export interface WorkerConfig {
  worker: WorkerSettings;
  breaker: BreakerSettings;
}

/** What a library user may leave out. */
export interface PartialWorkerConfig {
  worker?: Partial<WorkerSettings>;
  breaker?: Partial<BreakerSettings>;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Renewing three times per lease survives two lost heartbeats. The heartbeat's answer is also how a
 * cancel request reaches the handler, so it is capped at 750 ms: the request arrives within a second
 * even counting the round trip. That costs one small UPDATE per busy worker per 750 ms.
 */
export function defaultHeartbeatMs(leaseMs: number): number {
  return Math.max(50, Math.min(750, Math.floor(leaseMs / 3)));
}

/**
 * Half a lease: an expired lease is rescued within lease_ms × 1.5 of the last renewal, and an idle
 * worker costs the database two statements (election, rescue) per interval, every 15 s with the
 * default lease. Capped at 15 s so that longer leases do not delay rescues further.
 */
export function defaultMaintenanceIntervalMs(leaseMs: number): number {
  return Math.max(250, Math.min(15_000, Math.floor(leaseMs / 2)));
}

export const DEFAULT_WORKER_SETTINGS: Readonly<WorkerSettings> = Object.freeze({
  concurrency: 4,
  poll_interval_ms: 30_000,
  lease_ms: 30_000,
  heartbeat_ms: defaultHeartbeatMs(30_000),
  shutdown_grace_ms: 10_000,
  task_types: Object.freeze([]) as readonly string[],
  max_rescues: 3,
  maintenance_interval_ms: defaultMaintenanceIntervalMs(30_000),
  retention_ms: 7 * DAY_MS,
  fair_share: 0.5,
  event_loop_max_block_ms: defaultEventLoopMaxBlockMs(30_000),
});

export const DEFAULT_BREAKER_SETTINGS: Readonly<BreakerSettings> = Object.freeze({
  failure_threshold: DEFAULT_BREAKER_CONFIG.failureThreshold,
  success_threshold: DEFAULT_BREAKER_CONFIG.successThreshold,
  open_ms: DEFAULT_BREAKER_CONFIG.openMs,
});

/** Fills in defaults; the values derived from the lease follow a lease the caller changed. */
export function resolveWorkerConfig(partial: PartialWorkerConfig = {}): WorkerConfig {
  const given = partial.worker ?? {};
  const leaseMs = given.lease_ms ?? DEFAULT_WORKER_SETTINGS.lease_ms;
  const worker: WorkerSettings = {
    ...DEFAULT_WORKER_SETTINGS,
    heartbeat_ms: defaultHeartbeatMs(leaseMs),
    maintenance_interval_ms: defaultMaintenanceIntervalMs(leaseMs),
    event_loop_max_block_ms: defaultEventLoopMaxBlockMs(leaseMs),
    ...stripUndefined(given),
  };
  const breaker: BreakerSettings = { ...DEFAULT_BREAKER_SETTINGS, ...stripUndefined(partial.breaker ?? {}) };
  // The CLI's config checks the same with friendlier messages; these guard library users.
  if (!Number.isInteger(worker.concurrency) || worker.concurrency < 1) throw invalid('worker.concurrency', 'must be a whole number of at least 1');
  if (!(worker.lease_ms > 0)) throw invalid('worker.lease_ms', 'must be positive');
  if (!(worker.heartbeat_ms > 0) || worker.heartbeat_ms * 2 > worker.lease_ms) throw invalid('worker.heartbeat_ms', `must be positive and at most half of worker.lease_ms (${worker.lease_ms})`);
  if (!(worker.poll_interval_ms > 0)) throw invalid('worker.poll_interval_ms', 'must be positive');
  if (!(worker.fair_share > 0 && worker.fair_share <= 1)) throw invalid('worker.fair_share', 'must be a number above 0 and at most 1');
  if (!(worker.maintenance_interval_ms > 0)) throw invalid('worker.maintenance_interval_ms', 'must be positive');
  return { worker, breaker };
}

export function toBreakerConfig(settings: BreakerSettings): BreakerConfig {
  return { failureThreshold: settings.failure_threshold, successThreshold: settings.success_threshold, openMs: settings.open_ms };
}

function invalid(field: string, problem: string): ConveyorError {
  return new ConveyorError(ERROR_CODES.CONFIG, `${field} ${problem}`, { field });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
