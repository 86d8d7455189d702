import type { Location } from '../systems/system.ts';

/** Messages between the harness and a worker process (bench/harness/worker-host.ts). */
export type HostCommand =
  | {
      type: 'start';
      systemId: string;
      location: Location;
      concurrency: number;
      /** Workload tag the handler expects; other tasks count as stray. */
      tag: string;
      /** Distinct tasks of the tag after which the host reports `all-seen` (0: never). */
      expected: number;
    }
  /** Ends the current workload's record and begins the next one's, the workers running on. */
  | { type: 'rearm'; tag: string; expected: number }
  /** Makes the process's PostgreSQL connections publish their pending statistics (pg-clients.ts). */
  | { type: 'flush' }
  | { type: 'stop' }
  | { type: 'exit' };

export type HostEvent =
  | { type: 'ready' }
  | { type: 'started'; startupMs: number }
  | { type: 'all-seen'; at: number }
  | { type: 'stopped'; report: WorkerReport }
  | { type: 'flushed'; clients: number }
  | { type: 'error'; message: string };

/** What the worker process saw between a start and a stop. */
export interface WorkerReport {
  /** The index of every task of the tag, once per handler call: a repeat shows as a duplicate. */
  indexes: number[];
  /** Handler start minus enqueue time, ms, in the same order as `indexes`. */
  latenciesMs: number[];
  /** Handler start, epoch ms, in the same order as `indexes`. */
  startedAt: number[];
  /** Tasks of another workload that reached the handler. */
  stray: number;
  /** Epoch ms of the first and last handler start (null when none ran). */
  firstStartAt: number | null;
  lastStartAt: number | null;
  /** Largest resident set size sampled every 50 ms while started, and at the stop. */
  rssPeakBytes: number;
  rssAtStopBytes: number;
  /** CPU the worker process used between start and stop. */
  cpuMs: number;
  /** Queries the process's pg clients sent between start and stop; null when the store is not PostgreSQL. */
  statements: number | null;
}
