/**
 * The adapter every benchmarked queue implements, so that each workload runs against every system
 * the same way. A system lives at a Location (a database, a schema, a Redis prefix) that is plain
 * data: the harness process creates it and enqueues, a separate worker process opens the same
 * Location and runs the workers, as a real deployment would.
 */

/** The payload of every benchmark task: workload tag, index within the workload, enqueue time. */
export interface BenchTask {
  /** Workload tag; a task from another workload reaching a handler is counted as stray. */
  w: string;
  i: number;
  /** Epoch ms (fractional) just before the enqueue call, for insert-to-start latency. */
  t: number;
}

/** Called by the system's worker at the start of every task; must not throw. */
export type BenchHandler = (task: BenchTask) => void;

export type Location =
  | { kind: 'postgres'; database: string; url: string; schema: string }
  | { kind: 'sqlite'; directory: string; file: string }
  | { kind: 'redis'; url: string; prefix: string };

export type StoreKind = Location['kind'];

/** Which queue a workload's tasks go to: `work` is what the workers take; `enqueue` is never worked. */
export type Lane = 'work' | 'enqueue';

export interface BenchSystem {
  /** Installs or migrates the system's schema; called once per Location, before anything else. */
  setup(): Promise<void>;
  /** Inserts all tasks in as few calls as the system's bulk API allows (one, for all four). */
  enqueueBulk(tasks: readonly BenchTask[], lane?: Lane): Promise<void>;
  /** Inserts one task through the ordinary single-insert call. */
  enqueueOne(task: BenchTask, lane?: Lane): Promise<void>;
  /** Starts workers with this many tasks at once, calling `handler` at the start of each task. */
  startWorkers(concurrency: number, handler: BenchHandler): Promise<void>;
  /** Stops the workers gracefully (running tasks finish and are recorded). */
  stopWorkers(): Promise<void>;
  /** Tasks of the lane the store still has to finish: queued, running, or waiting to be recorded. */
  remaining(lane?: Lane): Promise<number>;
  /** Deletes or cancels every unfinished task of the work lane (after a drain ran out of time). */
  purge(): Promise<void>;
  /** Releases every connection this process holds. */
  close(): Promise<void>;
  /** Removes what the system stored outside a database the harness drops (Redis keys). */
  destroy?(): Promise<void>;
}

export interface SystemDefinition {
  /** Stable id used in results files: `conveyor-postgres`, `graphile-worker-tuned` ... */
  id: string;
  /** Human label for tables and charts. */
  label: string;
  product: 'conveyor' | 'graphile-worker' | 'pg-boss' | 'bullmq';
  store: StoreKind;
  /** False for the product's defaults, true for its best documented settings. */
  tuned: boolean;
  /** The settings, in words, for the report. */
  settings: string;
  version: string;
  open(location: Location): BenchSystem;
}

export const WORK_QUEUE = 'bench_noop';
export const ENQUEUE_QUEUE = 'bench_enqueue_only';

export function queueOf(lane: Lane = 'work'): string {
  return lane === 'work' ? WORK_QUEUE : ENQUEUE_QUEUE;
}

/** Epoch milliseconds with sub-millisecond precision, comparable across processes of one machine. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
