import type { Check } from '../harness/results.ts';
import type { MachineInfo } from '../harness/run-info.ts';
import type { ReadResult } from './api-reads.ts';
import type { BuildResult } from './build-history.ts';
import type { CatchUpResult } from './catch-up.ts';
import type { DashboardCost } from './dashboard-cost.ts';
import type { TableSize } from './history-store.ts';
import type { PruneCycle } from './prune-cycles.ts';
import type { ScaleOptions } from './scale-options.ts';

/** One engine's figures in `npm run bench -- --scale`; a part that failed is null, with its error. */
export interface ScaleEngineResult {
  engine: 'postgres' | 'sqlite';
  system: string;
  rows: number;
  build: BuildResult | null;
  catchUp: CatchUpResult | null;
  reads: ReadResult[];
  dashboard: DashboardCost | null;
  drain: { tasks: number; concurrency: number; rounds: number; history: number; empty: number; ratio: number; audits: Check[] } | null;
  prune: { before: TableSize; cycles: PruneCycle[] } | null;
  errors: string[];
}

/** What `npm run bench -- --scale` writes to bench/results/scale-<time>.json. */
export interface ScaleRecord {
  startedAt: string;
  durationSeconds: number;
  quick: boolean;
  options: ScaleOptions;
  machine: MachineInfo;
  postgres: string;
  gitCommit: string | null;
  engines: ScaleEngineResult[];
}
