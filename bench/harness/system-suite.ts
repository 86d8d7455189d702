/**
 * The workloads of one run of one system, on a fresh Location: bulk enqueue + drain at each
 * concurrency, insert-to-start latency at each steady rate, then one-by-one enqueue. The harness
 * process enqueues; a separate worker process runs the system's workers. Every workload ends with
 * the exactly-once audit.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { databaseTransactions, sampleServerCpu, serverCpuBetween } from '../bench-databases.ts';
import { pollUntil } from '../systems/poll.ts';
import { preciseNow, type BenchSystem, type BenchTask, type Location, type SystemDefinition } from '../systems/system.ts';
import { percentile } from '../stats.ts';
import { auditExactlyOnce, auditStored } from './audit.ts';
import type { BenchMetrics } from './metrics.ts';
import type { BenchOptions } from './options.ts';
import type { Results } from './results.ts';
import type { WorkerProcess } from './worker-process.ts';

export interface SuiteContext {
  definition: SystemDefinition;
  system: BenchSystem;
  location: Location;
  worker: WorkerProcess;
  options: BenchOptions;
  metrics: BenchMetrics;
  results: Results;
  run: number;
  step: (label: string) => void;
}

/** The steps runSystemSuite reports, for the progress bar's total. */
export function suiteSteps(options: BenchOptions): number {
  return options.drainConcurrencies.length + options.latencyRates.length + 2;
}

export async function runSystemSuite(ctx: SuiteContext): Promise<void> {
  for (const concurrency of ctx.options.drainConcurrencies) {
    ctx.step(`${ctx.definition.id}: bulk enqueue + drain at concurrency ${concurrency}`);
    await drain(ctx, concurrency);
  }
  for (const rate of ctx.options.latencyRates) {
    ctx.step(`${ctx.definition.id}: latency at ${rate} tasks/s`);
    await latency(ctx, rate);
  }
  ctx.step(`${ctx.definition.id}: one-by-one enqueue, 1 caller`);
  await enqueueOneByOne(ctx, 1, ctx.options.oneByOne, 0);
  ctx.step(`${ctx.definition.id}: one-by-one enqueue, ${ctx.options.callers} callers`);
  await enqueueOneByOne(ctx, ctx.options.callers, ctx.options.oneByOne * 2, ctx.options.oneByOne);
}

function tasksFor(tag: string, count: number): BenchTask[] {
  return Array.from({ length: count }, (_, i) => ({ w: tag, i, t: 0 }));
}

async function drain(ctx: SuiteContext, concurrency: number): Promise<void> {
  const { system, worker, options, metrics, results, definition, location } = ctx;
  const id = definition.id;
  const tag = `r${ctx.run}-drain-c${concurrency}`;
  const first = concurrency === options.drainConcurrencies[0];

  const tasks = tasksFor(tag, options.tasks);
  const enqueueStarted = preciseNow();
  await system.enqueueBulk(tasks);
  const enqueueSeconds = (preciseNow() - enqueueStarted) / 1000;
  if (first) results.add(metrics.bulk, id, options.tasks / enqueueSeconds);
  const stored = await system.remaining();
  if (stored !== options.tasks) {
    results.check(auditStored({ run: ctx.run, workload: `bulk enqueue (${tag})`, system: id, expected: options.tasks, stored }));
  }

  const xactsBefore = first && location.kind === 'postgres' ? await databaseTransactions(location.database) : null;
  const serverCpuBefore = first && location.kind !== 'sqlite' ? sampleServerCpu(location.kind) : null;
  await worker.start({ systemId: id, location, concurrency, tag, expected: options.tasks });
  const budgetEnd = performance.now() + options.drainBudgetMs;
  const allSeen = await worker.allSeen(options.drainBudgetMs);
  const drained = allSeen !== null && (await pollUntil(async () => (await system.remaining()) === 0, Math.max(0, budgetEnd - performance.now())));
  const endedAt = preciseNow();
  const serverCpuAfter = serverCpuBefore === null || location.kind === 'sqlite' ? null : sampleServerCpu(location.kind);
  const report = await worker.stop();
  if (process.env.BENCH_DEBUG && report.firstStartAt !== null) {
    process.stderr.write(
      `\n[debug] ${id} drain c${concurrency}: handlers ${(((report.lastStartAt ?? 0) - report.firstStartAt) / 1000).toFixed(3)} s, all-seen ${allSeen === null ? 'never' : ((allSeen - report.firstStartAt) / 1000).toFixed(3)} s, store drained ${((endedAt - report.firstStartAt) / 1000).toFixed(3)} s\n`,
    );
  }
  const remaining = await system.remaining();
  const check = auditExactlyOnce({ run: ctx.run, workload: `drain c${concurrency}`, system: id, expected: options.tasks, report, remaining });
  results.check(check);

  const metric = metrics.drain(concurrency);
  if (report.firstStartAt === null) {
    results.add(metric, id, 0, 'no task started within the time budget');
  } else {
    const seconds = (endedAt - report.firstStartAt) / 1000;
    const note = drained ? undefined : `did not finish within ${options.drainBudgetMs / 1000} s: rate of the ${check.distinct.toLocaleString('en-US')} of ${options.tasks.toLocaleString('en-US')} that ran`;
    results.add(metric, id, check.distinct / seconds, note);
  }
  if (concurrency === options.drainConcurrencies.at(-1)) results.add(metrics.rss, id, report.rssPeakBytes / 2 ** 20);
  if (first) {
    results.add(metrics.drainCpu, id, (report.cpuMs / Math.max(1, check.distinct)) * 1000);
    if (serverCpuBefore !== null && serverCpuAfter !== null) {
      results.add(metrics.drainDatabaseCpu, id, (serverCpuBetween(serverCpuBefore, serverCpuAfter) / Math.max(1, check.distinct)) * 1000);
    } else {
      results.unavailable(metrics.drainDatabaseCpu, id, location.kind === 'sqlite' ? 'SQLite runs inside the worker process' : 'the server is not on this machine');
    }
    if (xactsBefore !== null && location.kind === 'postgres') {
      const xacts = (await settledTransactions(location.database)) - xactsBefore;
      results.add(metrics.drainTransactions, id, xacts / Math.max(1, check.distinct));
    } else {
      results.unavailable(metrics.drainTransactions, id, location.kind === 'redis' ? 'Redis' : 'SQLite');
    }
  }
  if (remaining > 0) await system.purge();
}

/**
 * The statistics collector takes up to a second to publish a backend's counts; read until two
 * readings 300 ms apart agree (the worker has stopped, so nothing new arrives).
 */
async function settledTransactions(database: string): Promise<number> {
  let last = await databaseTransactions(database);
  for (let tries = 0; tries < 10; tries++) {
    await sleep(300);
    const next = await databaseTransactions(database);
    if (next === last) return next;
    last = next;
  }
  return last;
}

async function latency(ctx: SuiteContext, rate: number): Promise<void> {
  const { system, worker, options, metrics, results, definition, location } = ctx;
  const id = definition.id;
  const tag = `r${ctx.run}-latency-${rate}`;
  const count = Math.round(rate * options.latencySeconds);

  await worker.start({ systemId: id, location, concurrency: options.latencyConcurrency, tag, expected: count });
  // The load's shape, not a synchronisation: the worker sits idle before the stream begins.
  await sleep(options.idleBeforeMs);

  // Open loop: each insert is sent at its due time whether or not earlier ones have returned. A
  // system that cannot take the rate may refuse inserts (a client pool's connect timeout): those are
  // left out of the audit and the workload is reported saturated.
  const inserts: Promise<void>[] = [];
  const refused = new Set<number>();
  let refusal: unknown = null;
  const startedAt = performance.now();
  for (let i = 0; i < count; ) {
    const due = Math.min(count, Math.floor(((performance.now() - startedAt) / 1000) * rate) + 1);
    for (; i < due; i++) {
      const index = i;
      inserts.push(
        system.enqueueOne({ w: tag, i: index, t: preciseNow() }).catch((error: unknown) => {
          refused.add(index);
          refusal ??= error;
        }),
      );
    }
    if (i < count) await sleep(Math.max(0, startedAt + (i / rate) * 1000 - performance.now()));
  }
  await Promise.all(inserts);
  const budgetEnd = performance.now() + options.latencyBudgetMs;
  const allSeen = await worker.allSeen(options.latencyBudgetMs);
  if (allSeen !== null) await pollUntil(async () => (await system.remaining()) === 0, Math.max(0, budgetEnd - performance.now()));
  const report = await worker.stop();
  if (process.env.BENCH_DEBUG) {
    // When the slow starts (over 20 ms) happened, by 500 ms window, to line them up with other activity.
    const windows = new Map<number, number>();
    report.indexes.forEach((_, n) => {
      if (report.latenciesMs[n]! > 20) {
        const at = Math.floor(report.startedAt[n]! / 500) * 500;
        windows.set(at, (windows.get(at) ?? 0) + 1);
      }
    });
    const at = (ms: number) => new Date(ms).toISOString().slice(11, 23);
    const slowest = report.indexes
      .map((index, n) => ({ index, ms: report.latenciesMs[n]!, at: report.startedAt[n]! }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 8)
      .map((s) => `#${s.index} ${s.ms.toFixed(1)} ms at ${at(s.at)}`);
    process.stderr.write(`\n[debug] ${id} latency ${rate}/s: slow starts by window: ${[...windows].map(([w, n]) => `${at(w)}:${n}`).join(' ') || 'none'}; slowest: ${slowest.join(', ')}\n`);
  }
  const remaining = await system.remaining();
  const check = auditExactlyOnce({ run: ctx.run, workload: `latency ${rate}/s`, system: id, expected: count, report, remaining, refused });
  results.check(check);
  if (refused.size > 0) {
    const why = `saturated: ${refused.size} of ${count} inserts refused (${refusal instanceof Error ? refusal.message.split('\n')[0] : String(refusal)})`;
    for (const p of [50, 95, 99] as const) results.unavailable(metrics.latency(rate, p), id, why);
    if (remaining > 0) await system.purge();
    return;
  }

  // A task that never started counts as infinitely late, so a saturated system cannot look fast.
  const firstLatency = new Map<number, number>();
  report.indexes.forEach((index, n) => {
    if (!firstLatency.has(index)) firstLatency.set(index, report.latenciesMs[n]!);
  });
  const latencies = Array.from({ length: count }, (_, index) => firstLatency.get(index) ?? Number.POSITIVE_INFINITY);
  const note = check.finished ? undefined : `saturated: ${count - check.distinct} of ${count} tasks had not started ${options.latencyBudgetMs / 1000} s after the stream ended`;
  for (const p of [50, 95, 99] as const) {
    const value = percentile(latencies, p);
    results.add(metrics.latency(rate, p), id, Number.isFinite(value) ? value : Number.NaN, Number.isFinite(value) ? note : `${note} (p${p} did not start)`);
  }
  if (remaining > 0) await system.purge();
}

async function enqueueOneByOne(ctx: SuiteContext, callers: number, count: number, alreadyStored: number): Promise<void> {
  const { system, metrics, results, definition } = ctx;
  const tag = `r${ctx.run}-enqueue-${callers}`;
  let next = 0;
  const started = preciseNow();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < count) {
        const i = next++;
        await system.enqueueOne({ w: tag, i, t: preciseNow() }, 'enqueue');
      }
    }),
  );
  const seconds = (preciseNow() - started) / 1000;
  results.add(callers === 1 ? metrics.enqueueSequential : metrics.enqueueConcurrent, definition.id, count / seconds);
  const stored = await system.remaining('enqueue');
  results.check(
    auditStored({ run: ctx.run, workload: `one-by-one enqueue, ${callers} caller${callers > 1 ? 's' : ''}`, system: definition.id, expected: alreadyStored + count, stored }),
  );
}
