/**
 * What the history holds: a realistic mix of finished tasks (about 90 % completed, 7 % failed, 3 %
 * cancelled), six task types, ten owners plus tasks without one, finished over the retention window
 * in insertion order (so ids, heap order and time agree as in a real history), with small outputs.
 * Deterministic: the same seed gives the same history.
 */
import type { TaskInput } from '../../src/core/new-task.ts';

export const HISTORY_TYPES = ['email', 'webhook', 'report_generation', 'data_processing', 'file_cleanup', 'image_resize'] as const;
const TYPE_WEIGHTS = [0.35, 0.25, 0.1, 0.15, 0.05, 0.1];
const PRIORITIES = ['normal', 'normal', 'normal', 'normal', 'high', 'low', 'critical', 'normal'] as const;
/** Share of the tasks no user owns (enqueued by an application or a schedule). */
const UNOWNED = 0.3;

export interface FinishedRow {
  id: string;
  status: 'completed' | 'failed' | 'cancelled';
  createdMs: number;
  startedMs: number | null;
  completedMs: number;
  output: string | null;
  error: string | null;
}

/** A small, fast, seeded generator (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(values: readonly T[], weights: readonly number[], r: number): T {
  let acc = 0;
  for (let i = 0; i < values.length; i++) {
    acc += weights[i]!;
    if (r < acc) return values[i]!;
  }
  return values.at(-1)!;
}

/** The inputs of `count` tasks, as an application would enqueue them. */
export function historyInputs(count: number, owners: readonly string[], random: () => number): TaskInput[] {
  return Array.from({ length: count }, (_, i) => {
    const taskType = pick(HISTORY_TYPES, TYPE_WEIGHTS, random());
    const owner = random() < UNOWNED ? null : owners[Math.floor(random() * owners.length)]!;
    return { taskType, payload: { n: i, ref: `r${Math.floor(random() * 1e6)}` }, priority: PRIORITIES[Math.floor(random() * PRIORITIES.length)], createdBy: owner };
  });
}

/**
 * How each inserted task finished: `from`..`to` (epoch ms) is the span the batch's completions fill,
 * in order. Queue wait 20 ms to ~2 s, run time 50 ms to ~5 s; a cancelled task never started.
 */
export function finishedRows(ids: readonly string[], from: number, to: number, random: () => number): FinishedRow[] {
  const step = (to - from) / Math.max(1, ids.length);
  return ids.map((id, i) => {
    const completedMs = Math.floor(from + (i + random()) * step);
    const r = random();
    const status = r < 0.9 ? 'completed' : r < 0.97 ? 'failed' : 'cancelled';
    const runMs = 50 + Math.floor(-Math.log(1 - random()) * 800);
    const waitMs = 20 + Math.floor(-Math.log(1 - random()) * 300);
    if (status === 'cancelled') return { id, status, createdMs: completedMs - waitMs, startedMs: null, completedMs, output: null, error: null };
    const startedMs = completedMs - runMs;
    return {
      id,
      status,
      createdMs: startedMs - waitMs,
      startedMs,
      completedMs,
      output: status === 'completed' ? JSON.stringify({ ok: true, items: Math.floor(random() * 100) }) : null,
      error: status === 'failed' ? 'HistoryError: simulated permanent failure (bench --scale)' : null,
    };
  });
}
