import type { TaskHistory, TaskHistoryBucket } from '../engine.ts';

/**
 * Per-minute and hourly rollups of finished tasks (issue 16), the same for both engines: what a
 * rollup row holds, how far a run reaches, how raw rows become rollups (SQLite; PostgreSQL computes
 * them in SQL), which hours are made from the minutes, and how minutes and hours merge into a chart's
 * buckets.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
/** The owner key of the rows that count every task of a type, whoever created it. */
export const ALL_OWNERS = '*';
/**
 * A minute is rolled up only once it ended this long ago, so that a completion stamped late in that
 * minute by a worker whose transaction commits a little later is still counted.
 */
export const ROLLUP_SETTLE_MS = 60_000;
/** The charts reach back 7 days: a first run on an existing history starts there. */
export const ROLLUP_REACH_MS = 7 * 24 * 3_600_000;
/** The most minutes one run rolls up, so that catching up on a large history is many short runs. */
export const ROLLUP_MAX_MINUTES_PER_RUN = 60;
/** The most hours one run rolls up from the minutes (an upgraded database's 7 days: 7 runs). */
export const ROLLUP_MAX_HOURS_PER_RUN = 24;

export interface RollupRow {
  minute: number;
  taskType: string;
  owner: string;
  completed: number;
  failed: number;
  cancelled: number;
  waitP50: number | null;
  waitP95: number | null;
  waitP99: number | null;
  runP50: number | null;
  runP95: number | null;
  runP99: number | null;
}

/**
 * The minutes [from, to) one run rolls up, or null when nothing is due yet. The first run starts at
 * the minute of the earliest finished task (`earliestFinished`, null when none: nothing to roll up
 * before now), at most ROLLUP_REACH_MS back.
 */
export function rollupWindow(rolledThrough: number | null, nowMs: number, earliestFinished: number | null): { from: number; to: number } | null {
  const settled = Math.floor((nowMs - ROLLUP_SETTLE_MS) / MINUTE_MS) * MINUTE_MS;
  const start = rolledThrough ?? Math.floor((earliestFinished ?? settled) / MINUTE_MS) * MINUTE_MS;
  const from = Math.max(start, Math.floor((nowMs - ROLLUP_REACH_MS) / MINUTE_MS) * MINUTE_MS);
  const to = Math.min(settled, from + ROLLUP_MAX_MINUTES_PER_RUN * MINUTE_MS);
  return to > from ? { from, to } : null;
}

/**
 * Rollups older than the charts' reach are deleted once an hour, when a run crosses an hour: the
 * cutoff (null when this run crosses none). The table then holds about 7 days of minutes.
 */
export function rollupExpiry(window: { from: number; to: number }): number | null {
  return Math.floor(window.from / HOUR_MS) === Math.floor(window.to / HOUR_MS) ? null : window.to - ROLLUP_REACH_MS - HOUR_MS;
}

/**
 * The hours [from, to) one run rolls up from the stored minutes into the hourly rollups, or null when
 * none is due: every whole hour before rolledThrough (the minutes' mark after this run) from where the
 * last run stopped (hoursThrough), at most ROLLUP_MAX_HOURS_PER_RUN, never from further back than the
 * charts reach. Before the first hour (hoursThrough null) they start at the hour of the earliest
 * stored minute (`earliestMinute`): a database that had minutes before it had hours (an upgrade) gets
 * the hours of its last 7 days from those minutes over its first runs.
 *
 * An hour's row is its minutes merged as historyOf merges them: counts added up, each percentile the
 * largest of its minutes' (not the hour's exact percentile, which the minutes cannot give). A chart
 * whose buckets are whole hours therefore shows from hours exactly what it showed from minutes.
 */
export function rollupHourWindow(hoursThrough: number | null, rolledThrough: number | null, nowMs: number, earliestMinute: number | null): { from: number; to: number } | null {
  if (rolledThrough === null) return null;
  const through = Math.floor(rolledThrough / HOUR_MS) * HOUR_MS;
  const start = hoursThrough ?? Math.floor((earliestMinute ?? rolledThrough) / HOUR_MS) * HOUR_MS;
  const from = Math.max(start, Math.floor((nowMs - ROLLUP_REACH_MS) / HOUR_MS) * HOUR_MS);
  const to = Math.min(through, from + ROLLUP_MAX_HOURS_PER_RUN * HOUR_MS);
  return to > from ? { from, to } : null;
}

/**
 * Which part of a chart [since, until) reads the hourly rollups: [since, hoursEnd). Only a chart whose
 * buckets are whole hours on hour boundaries (the 7-day chart) does, and only up to hoursThrough; the
 * rest reads minutes (up to rolledThrough) and then the tasks. hoursEnd is since when no hour is read.
 */
export function hoursEndOf(p: { since: number; until: number; bucketMs: number }, hoursThrough: number | null): number {
  if (hoursThrough === null || !chartReadsHours(p)) return p.since;
  return Math.max(p.since, Math.min(p.until, hoursThrough));
}

/** Whether a chart's buckets are whole hours starting on hour boundaries, so that each stored hour falls in one bucket. */
export function chartReadsHours(p: { since: number; bucketMs: number }): boolean {
  return p.bucketMs % HOUR_MS === 0 && p.since % HOUR_MS === 0;
}

/** One finished task, as the rollup reads it (epoch ms). */
export interface FinishedTaskRow {
  task_type: string;
  created_by: string | null;
  status: string;
  run_at: number;
  started_at: number | null;
  completed_at: number;
}

/** The nearest-rank percentile of sorted values (percentile_disc), or null for none. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/** Raw finished tasks -> rollup rows per (minute, type, owner) and per (minute, type) for every owner. */
export function rollupRowsOf(tasks: readonly FinishedTaskRow[]): RollupRow[] {
  const groups = new Map<string, { minute: number; taskType: string; owner: string; counts: Record<string, number>; waits: number[]; runs: number[] }>();
  for (const task of tasks) {
    const minute = Math.floor(task.completed_at / MINUTE_MS) * MINUTE_MS;
    for (const owner of task.created_by === null ? [ALL_OWNERS] : [ALL_OWNERS, task.created_by]) {
      const key = `${minute}\u0000${task.task_type}\u0000${owner}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { minute, taskType: task.task_type, owner, counts: {}, waits: [], runs: [] }));
      group.counts[task.status] = (group.counts[task.status] ?? 0) + 1;
      if (task.started_at !== null) {
        group.waits.push(Math.max(0, task.started_at - task.run_at));
        group.runs.push(Math.max(0, task.completed_at - task.started_at));
      }
    }
  }
  return [...groups.values()].map((g) => {
    g.waits.sort((a, b) => a - b);
    g.runs.sort((a, b) => a - b);
    return {
      minute: g.minute,
      taskType: g.taskType,
      owner: g.owner,
      completed: g.counts.completed ?? 0,
      failed: g.counts.failed ?? 0,
      cancelled: g.counts.cancelled ?? 0,
      waitP50: percentile(g.waits, 0.5),
      waitP95: percentile(g.waits, 0.95),
      waitP99: percentile(g.waits, 0.99),
      runP50: percentile(g.runs, 0.5),
      runP95: percentile(g.runs, 0.95),
      runP99: percentile(g.runs, 0.99),
    };
  });
}

/**
 * Minutes -> a chart's buckets [since, until) of bucketMs, every bucket present (zero when nothing
 * finished). Counts add up; a bucket's percentiles are the largest of its minutes' (a minute's p95
 * is exact; over several minutes this is an upper bound, never an average that hides a bad minute).
 */
export function historyOf(rows: readonly RollupRow[], p: { since: number; until: number; bucketMs: number; rolledThrough: number | null }): TaskHistory {
  const count = Math.max(0, Math.ceil((p.until - p.since) / p.bucketMs));
  const buckets: TaskHistoryBucket[] = Array.from({ length: count }, (_, i) => ({
    start: new Date(p.since + i * p.bucketMs),
    completed: 0,
    failed: 0,
    cancelled: 0,
    waitP50Ms: null,
    waitP95Ms: null,
    waitP99Ms: null,
    runP50Ms: null,
    runP95Ms: null,
    runP99Ms: null,
  }));
  const max = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
  for (const row of rows) {
    const bucket = buckets[Math.floor((row.minute - p.since) / p.bucketMs)];
    if (!bucket) continue;
    bucket.completed += row.completed;
    bucket.failed += row.failed;
    bucket.cancelled += row.cancelled;
    bucket.waitP50Ms = max(bucket.waitP50Ms, row.waitP50);
    bucket.waitP95Ms = max(bucket.waitP95Ms, row.waitP95);
    bucket.waitP99Ms = max(bucket.waitP99Ms, row.waitP99);
    bucket.runP50Ms = max(bucket.runP50Ms, row.runP50);
    bucket.runP95Ms = max(bucket.runP95Ms, row.runP95);
    bucket.runP99Ms = max(bucket.runP99Ms, row.runP99);
  }
  return { buckets, rolledUpThrough: p.rolledThrough === null ? null : new Date(p.rolledThrough) };
}
