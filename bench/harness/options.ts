/** Sizes and time budgets of one benchmark run; `--quick` shrinks them to finish in under 3 minutes. */
export interface BenchOptions {
  quick: boolean;
  /** Fresh databases per system; each metric's figure is the median over runs. */
  runs: number;
  /** Bulk enqueue, then drained by the workers. */
  tasks: number;
  drainConcurrencies: number[];
  /** How long a drain may take before the run records the rate so far and moves on. */
  drainBudgetMs: number;
  /** One-by-one enqueue: tasks for the sequential caller and for the concurrent callers. */
  oneByOne: number;
  callers: number;
  latencyRates: number[];
  latencySeconds: number;
  latencyConcurrency: number;
  /** The worker sits idle this long before the steady stream starts. */
  idleBeforeMs: number;
  /** After the stream ends, how long the tasks still waiting may take to start. */
  latencyBudgetMs: number;
  /** Idle cost: settling time after start, then the measured window. */
  idleWarmupMs: number;
  idleWindowMs: number;
  idleConcurrency: number;
  /** autocannon against POST /tasks and GET /tasks/:id: this many requests per run (a fixed count, so none is cut off mid-flight). */
  httpRequests: number;
  /** Each HTTP workload runs once per connection count. */
  httpConnections: number[];
  /** The store micro-benchmark of issue 2. */
  micro: { tasks: number; runs: number; claimers: number; batch: number };
}

export function benchOptions(quick: boolean): BenchOptions {
  return quick
    ? {
        quick,
        runs: 1,
        tasks: 5000,
        drainConcurrencies: [10, 50],
        drainBudgetMs: 6000,
        oneByOne: 500,
        callers: 16,
        latencyRates: [50, 500],
        latencySeconds: 2,
        latencyConcurrency: 10,
        idleBeforeMs: 1000,
        latencyBudgetMs: 3000,
        idleWarmupMs: 3000,
        idleWindowMs: 15_000,
        idleConcurrency: 10,
        httpRequests: 5000,
        httpConnections: [16, 64],
        micro: { tasks: 5000, runs: 1, claimers: 4, batch: 50 },
      }
    : {
        quick,
        runs: 3,
        tasks: 20_000,
        drainConcurrencies: [10, 50],
        drainBudgetMs: 30_000,
        oneByOne: 2000,
        callers: 16,
        latencyRates: [50, 500],
        latencySeconds: 10,
        latencyConcurrency: 10,
        idleBeforeMs: 2000,
        latencyBudgetMs: 10_000,
        idleWarmupMs: 12_000,
        idleWindowMs: 60_000,
        idleConcurrency: 10,
        httpRequests: 30_000,
        httpConnections: [16, 64],
        micro: { tasks: 20_000, runs: 3, claimers: 4, batch: 50 },
      };
}
