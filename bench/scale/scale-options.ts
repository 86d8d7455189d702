/** Sizes of `npm run bench -- --scale` (issue 16); `--quick` or the --scale-* flags shrink them. */
export interface ScaleOptions {
  /** Finished tasks in the history, per engine (0 skips the engine). */
  rows: { postgres: number; sqlite: number };
  /** Tasks per enqueueMany call (and per set-based finishing statement). */
  batch: number;
  /** Timed requests per API read, after `warmup` untimed ones. */
  requests: number;
  warmup: number;
  /** How long an open dashboard's statements are counted (PostgreSQL). */
  dashboardSeconds: number;
  /** No-op tasks drained with the history and on an empty database. */
  drainTasks: number;
  drainConcurrency: number;
  /** Drains on each side, interleaved (empty, history, empty, ...); the figures are their medians. */
  drainRounds: number;
  /** Prune cycles: add a day's worth of finished tasks, then prune a day's worth. */
  pruneCycles: number;
}

export const RETENTION_DAYS = 7;

export function scaleOptions(p: { quick: boolean; rowsPostgres?: string | undefined; rowsSqlite?: string | undefined; pruneCycles?: string | undefined }): ScaleOptions {
  const base: ScaleOptions = p.quick
    ? { rows: { postgres: 200_000, sqlite: 100_000 }, batch: 5000, requests: 100, warmup: 10, dashboardSeconds: 30, drainTasks: 5000, drainConcurrency: 10, drainRounds: 1, pruneCycles: 2 }
    : { rows: { postgres: 10_000_000, sqlite: 1_000_000 }, batch: 5000, requests: 200, warmup: 20, dashboardSeconds: 60, drainTasks: 20_000, drainConcurrency: 10, drainRounds: 3, pruneCycles: 5 };
  return { ...base, rows: { postgres: count(p.rowsPostgres, base.rows.postgres), sqlite: count(p.rowsSqlite, base.rows.sqlite) }, pruneCycles: count(p.pruneCycles, base.pruneCycles) };
}

function count(flag: string | undefined, fallback: number): number {
  if (flag === undefined) return fallback;
  const value = Number(flag.replaceAll('_', ''));
  if (!Number.isInteger(value) || value < 0) throw new Error(`a row count must be a whole number, not ${flag}`);
  return value;
}
