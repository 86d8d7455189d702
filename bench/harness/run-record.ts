import type { Measurement } from '../stats.ts';
import type { BenchOptions } from './options.ts';
import type { MachineInfo } from './run-info.ts';
import type { Check, Metric, Result } from './results.ts';

/** What one `npm run bench` writes to bench/results/<time>.json, and what the report is built from. */
export interface RunRecord {
  startedAt: string;
  durationSeconds: number;
  quick: boolean;
  options: BenchOptions;
  machine: MachineInfo;
  versions: Record<string, string>;
  gitCommit: string | null;
  /** How idle statements were counted on PostgreSQL. */
  idleSource: string | null;
  systems: { id: string; label: string; product: string; store: string; tuned: boolean; settings: string; version: string }[];
  metrics: Metric[];
  results: Result[];
  checks: Check[];
  storeMicro: Measurement[];
  /** Workloads that could not run at all (an exception), with the reason. */
  errors: string[];
}
