import type { BenchOptions } from './options.ts';
import type { Metric } from './results.ts';

const n = (value: number) => value.toLocaleString('en-US');

export type HttpRoute = 'POST /tasks' | 'GET /tasks/:id';

/** Every metric the run reports, named once so tables, charts and targets agree. */
export function benchMetrics(options: BenchOptions) {
  const drain = (c: number): Metric => ({
    key: `drain-c${c}`,
    title: `drain ${n(options.tasks)} no-op tasks, concurrency ${c}`,
    section: 'Throughput',
    unit: 'tasks/s',
    better: 'higher',
    ranked: true,
  });
  const latency = (rate: number, p: 50 | 95 | 99): Metric => ({
    key: `latency-${rate}-p${p}`,
    title: `insert-to-start p${p} at ${rate} tasks/s`,
    section: 'Latency',
    unit: 'ms',
    better: 'lower',
    ranked: true,
  });
  return {
    bulk: {
      key: 'bulk-enqueue',
      title: `bulk enqueue of ${n(options.tasks)} (one call)`,
      section: 'Enqueue',
      unit: 'tasks/s',
      better: 'higher',
      ranked: true,
    } satisfies Metric,
    enqueueSequential: {
      key: 'enqueue-one-sequential',
      title: `one-by-one enqueue, 1 caller (${n(options.oneByOne)} tasks)`,
      section: 'Enqueue',
      unit: 'tasks/s',
      better: 'higher',
      ranked: true,
    } satisfies Metric,
    enqueueConcurrent: {
      key: 'enqueue-one-concurrent',
      title: `one-by-one enqueue, ${options.callers} concurrent callers (${n(options.oneByOne * 2)} tasks)`,
      section: 'Enqueue',
      unit: 'tasks/s',
      better: 'higher',
      ranked: true,
    } satisfies Metric,
    drain,
    latency,
    drainWarm: {
      key: `drain-warm-c${options.drainConcurrencies[0]}`,
      title: `drain ${n(options.tasks)} no-op tasks, concurrency ${options.drainConcurrencies[0]}, warm worker`,
      section: 'Throughput',
      unit: 'tasks/s',
      better: 'higher',
      ranked: true,
    } satisfies Metric,
    drainStatements: {
      key: 'drain-statements',
      title: `statements the worker process sent per task while draining (concurrency ${options.drainConcurrencies[0]}, start-up included)`,
      section: 'Cost',
      unit: 'statements/task',
      better: 'lower',
      ranked: false,
    } satisfies Metric,
    drainRows: {
      key: 'drain-rows-written',
      title: `rows written per task while draining: inserts + updates + deletes in the system's tables (concurrency ${options.drainConcurrencies[0]})`,
      section: 'Cost',
      unit: 'rows/task',
      better: 'lower',
      ranked: false,
    } satisfies Metric,
    drainHot: {
      key: 'drain-hot-updates',
      title: `share of those updates that were heap-only (HOT: no new index entries)`,
      section: 'Cost',
      unit: '%',
      better: 'higher',
      ranked: false,
    } satisfies Metric,
    drainWal: {
      key: 'drain-wal-bytes',
      title: `WAL bytes per task while draining, whole server (concurrency ${options.drainConcurrencies[0]})`,
      section: 'Cost',
      unit: 'bytes/task',
      better: 'lower',
      ranked: false,
    } satisfies Metric,
    drainWalDatabase: {
      key: 'drain-wal-bytes-database',
      title: `of which WAL records touching the system's own database (pg_walinspect)`,
      section: 'Cost',
      unit: 'bytes/task',
      better: 'lower',
      ranked: false,
    } satisfies Metric,
    drainTransactions: {
      key: 'drain-db-transactions',
      title: `database transactions per task while draining (concurrency ${options.drainConcurrencies[0]})`,
      section: 'Cost',
      unit: 'xacts/task',
      better: 'lower',
      ranked: false,
    } satisfies Metric,
    drainCpu: {
      key: 'drain-worker-cpu',
      title: `worker process CPU per 1,000 tasks while draining (concurrency ${options.drainConcurrencies[0]}, start-up included)`,
      section: 'Cost',
      unit: 'CPU ms',
      better: 'lower',
      ranked: false,
    } satisfies Metric,
    drainDatabaseCpu: {
      key: 'drain-database-cpu',
      title: `database server CPU per 1,000 tasks while draining (concurrency ${options.drainConcurrencies[0]}; PostgreSQL or Redis on this machine)`,
      section: 'Cost',
      unit: 'CPU ms',
      better: 'lower',
      ranked: false,
    } satisfies Metric,
    rss: {
      key: 'worker-rss',
      title: `worker memory under load (peak RSS, drain at concurrency ${options.drainConcurrencies.at(-1)})`,
      section: 'Cost',
      unit: 'MiB',
      better: 'lower',
      ranked: true,
    } satisfies Metric,
    idle: {
      key: 'idle-statements',
      title: `database cost of one idle worker (concurrency ${options.idleConcurrency}), over ${options.idleWindowMs / 1000} s`,
      section: 'Cost',
      unit: 'statements/s',
      better: 'lower',
      ranked: true,
    } satisfies Metric,
    http: (route: HttpRoute, connections: number): Metric => ({
      key: `http-${route === 'POST /tasks' ? 'post-tasks' : 'get-task'}-c${connections}`,
      title: `HTTP ${route} (autocannon, ${connections} connections, ${n(options.httpRequests)} requests)`,
      section: 'HTTP API',
      unit: 'requests/s',
      better: 'higher',
      ranked: false,
    }),
    httpP99: (route: HttpRoute, connections: number): Metric => ({
      key: `http-${route === 'POST /tasks' ? 'post-tasks' : 'get-task'}-c${connections}-p99`,
      title: `HTTP ${route} p99 latency, ${connections} connections`,
      section: 'HTTP API',
      unit: 'ms',
      better: 'lower',
      ranked: false,
    }),
  };
}

export type BenchMetrics = ReturnType<typeof benchMetrics>;
