import { median } from '../stats.ts';

export type Better = 'higher' | 'lower';

/** One measured quantity: what the tables and charts call a workload. */
export interface Metric {
  key: string;
  title: string;
  /** Tables and charts group metrics by section. */
  section: string;
  unit: string;
  better: Better;
  /** Shown in charts and in the ratio column; diagnostics are reported but not ranked. */
  ranked: boolean;
}

export interface Result {
  metric: string;
  system: string;
  samples: number[];
  median: number;
  /** Caveats collected across runs: a drain that ran out of time, a saturated latency run. */
  notes: string[];
}

/** The exactly-once audit of one workload of one run. */
export interface Check {
  run: number;
  workload: string;
  system: string;
  expected: number;
  /** Handler calls for tasks of this workload. */
  ran: number;
  distinct: number;
  duplicates: number;
  /** Tasks the store still holds unfinished after the workers stopped. */
  remaining: number;
  /** Tasks that neither ran nor are still in the store. */
  lost: number;
  stray: number;
  /** False when the workload ran out of time before every task ran (not a failure by itself). */
  finished: boolean;
  ok: boolean;
  detail: string;
}

export class Results {
  readonly metrics = new Map<string, Metric>();
  readonly #results = new Map<string, Result>();
  readonly checks: Check[] = [];

  add(metric: Metric, system: string, value: number, note?: string): void {
    this.metrics.set(metric.key, metric);
    const key = `${metric.key}\u0000${system}`;
    let result = this.#results.get(key);
    if (!result) {
      result = { metric: metric.key, system, samples: [], median: Number.NaN, notes: [] };
      this.#results.set(key, result);
    }
    if (Number.isFinite(value)) result.samples.push(value);
    result.median = result.samples.length > 0 ? median(result.samples) : Number.NaN;
    if (note && !result.notes.includes(note)) result.notes.push(note);
  }

  /** Marks a metric as not measurable for a system (`n/a` in the table). */
  unavailable(metric: Metric, system: string, note: string): void {
    this.add(metric, system, Number.NaN, note);
  }

  check(check: Check): void {
    this.checks.push(check);
  }

  get(metric: string, system: string): Result | undefined {
    return this.#results.get(`${metric}\u0000${system}`);
  }

  list(): Result[] {
    return [...this.#results.values()];
  }

  get failures(): Check[] {
    return this.checks.filter((check) => !check.ok);
  }
}
