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
  /** Prune cycles measured: add a day's worth of finished tasks, then prune a day's worth. */
  pruneCycles: number;
  /**
   * Prune cycles run first and not held to the flat-size target: the built history is compact (see
   * history-store.ts settle), so the first RETENTION_DAYS cycles replace its days with days written
   * and pruned as the product does, and PostgreSQL reuses a B-tree page a VACUUM freed only after a
   * later VACUUM, two cycles more. After those the table is in its steady state.
   */
  settleCycles: number;
}

export const RETENTION_DAYS = 7;
/** A week of days replaced, then the two VACUUMs before freed index pages are reused. */
const SETTLE_CYCLES = RETENTION_DAYS + 2;

export function scaleOptions(p: { quick: boolean; rowsPostgres?: string | undefined; rowsSqlite?: string | undefined; pruneCycles?: string | undefined; settleCycles?: string | undefined }): ScaleOptions {
  const base: ScaleOptions = p.quick
    ? { rows: { postgres: 200_000, sqlite: 100_000 }, batch: 5000, requests: 100, warmup: 10, dashboardSeconds: 30, drainTasks: 5000, drainConcurrency: 10, drainRounds: 1, pruneCycles: 2, settleCycles: SETTLE_CYCLES }
    : { rows: { postgres: 10_000_000, sqlite: 1_000_000 }, batch: 5000, requests: 200, warmup: 20, dashboardSeconds: 60, drainTasks: 20_000, drainConcurrency: 10, drainRounds: 3, pruneCycles: 5, settleCycles: SETTLE_CYCLES };
  return { ...base, rows: { postgres: count(p.rowsPostgres, base.rows.postgres), sqlite: count(p.rowsSqlite, base.rows.sqlite) }, pruneCycles: count(p.pruneCycles, base.pruneCycles), settleCycles: count(p.settleCycles, base.settleCycles) };
}

function count(flag: string | undefined, fallback: number): number {
  if (flag === undefined) return fallback;
  const value = Number(flag.replaceAll('_', ''));
  if (!Number.isInteger(value) || value < 0) throw new Error(`a row count must be a whole number, not ${flag}`);
  return value;
}
