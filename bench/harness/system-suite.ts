/**
 * The workloads of one run of one system, on a fresh Location: bulk enqueue + drain at each
 * concurrency (at the first, a second drain on the same warm workers follows), insert-to-start latency at each steady rate, then one-by-one enqueue. The harness
 * process enqueues; a separate worker process runs the system's workers. Every workload ends with
 * the exactly-once audit.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { databaseTransactions, databaseWalBytesBetween, sampleServerCpu, serverCpuBetween, tableWrites, walBytesBetween, walPosition, type TableWrites } from '../bench-databases.ts';
import { pollUntil } from '../systems/poll.ts';
import { preciseNow, type BenchSystem, type BenchTask, type Location, type SystemDefinition } from '../systems/system.ts';
import { percentile } from '../stats.ts';
import { auditExactlyOnce, auditStored } from './audit.ts';
import type { BenchMetrics } from './metrics.ts';
import type { BenchOptions } from './options.ts';
import { flushPgStatistics, watchPgClients } from './pg-clients.ts';
import type { Metric, Results } from './results.ts';
import type { WorkerProcess } from './worker-process.ts';
import type { WorkerReport } from './worker-protocol.ts';

// The harness's own connections (enqueue, counting) flush their statistics before each reading too.
watchPgClients();

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
  return options.drainConcurrencies.length + 1 + options.latencyRates.length + 2;
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

/** A bulk enqueue and drain at the first concurrency, audited by nobody and recorded nowhere. */
export async function warmUpDrain(ctx: Pick<SuiteContext, 'definition' | 'system' | 'location' | 'worker' | 'options'>): Promise<void> {
  const { definition, system, location, worker, options } = ctx;
  await system.enqueueBulk(tasksFor('warm-up', options.tasks));
  await worker.start({ systemId: definition.id, location, concurrency: options.drainConcurrencies[0]!, tag: 'warm-up', expected: options.tasks });
  await waitForDrain(ctx);
  await worker.stop();
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

  const databaseBefore = first && location.kind === 'postgres' ? await readDatabase(ctx, location) : null;
  const serverCpuBefore = first && location.kind !== 'sqlite' ? sampleServerCpu(location.kind) : null;
  await worker.start({ systemId: id, location, concurrency, tag, expected: options.tasks });
  const { drained, endedAt } = await waitForDrain(ctx);
  const serverCpuAfter = serverCpuBefore === null || location.kind === 'sqlite' ? null : sampleServerCpu(location.kind);
  const databaseAfter = databaseBefore !== null && location.kind === 'postgres' ? await readDatabase(ctx, location) : null;
  // At the first concurrency the same workers stay up for the warm drain that follows.
  const warmTag = `${tag}-warm`;
  const report = first ? await worker.rearm({ tag: warmTag, expected: options.tasks }) : await worker.stop();
  const distinct = await recordDrain(ctx, metrics.drain(concurrency), `drain c${concurrency}`, report, drained, endedAt);
  if (concurrency === options.drainConcurrencies.at(-1)) results.add(metrics.rss, id, report.rssPeakBytes / 2 ** 20);
  if (!first) return;

  const perTask = (value: number) => value / Math.max(1, distinct);
  results.add(metrics.drainCpu, id, perTask(report.cpuMs) * 1000);
  if (serverCpuBefore !== null && serverCpuAfter !== null) {
    results.add(metrics.drainDatabaseCpu, id, perTask(serverCpuBetween(serverCpuBefore, serverCpuAfter)) * 1000);
  } else {
    results.unavailable(metrics.drainDatabaseCpu, id, location.kind === 'sqlite' ? 'SQLite runs inside the worker process' : 'the server is not on this machine');
  }
  if (report.statements !== null) results.add(metrics.drainStatements, id, perTask(report.statements));
  else results.unavailable(metrics.drainStatements, id, `counted for PostgreSQL clients only, not ${location.kind === 'redis' ? 'Redis commands' : 'SQLite statements'}`);
  if (databaseBefore !== null && databaseAfter !== null && location.kind === 'postgres') {
    const [before, after] = [databaseBefore.writes, databaseAfter.writes];
    const updated = after.updated - before.updated;
    results.add(metrics.drainWal, id, perTask(await walBytesBetween(databaseBefore.wal, databaseAfter.wal)), WAL_NOTE);
    const databaseWal = await databaseWalBytesBetween(location.database, databaseBefore.wal, databaseAfter.wal);
    if (databaseWal !== null) results.add(metrics.drainWalDatabase, id, perTask(databaseWal));
    else results.unavailable(metrics.drainWalDatabase, id, 'the server has no pg_walinspect');
    results.add(metrics.drainRows, id, perTask(after.inserted - before.inserted + updated + after.deleted - before.deleted));
    if (updated > 0) results.add(metrics.drainHot, id, ((after.hotUpdated - before.hotUpdated) / updated) * 100);
    else results.unavailable(metrics.drainHot, id, 'no row was updated');
    results.add(metrics.drainTransactions, id, perTask(databaseAfter.transactions - databaseBefore.transactions));
  } else {
    const why = `PostgreSQL's statistics; the store is ${location.kind === 'redis' ? 'Redis' : 'SQLite'}`;
    for (const metric of [metrics.drainWal, metrics.drainWalDatabase, metrics.drainRows, metrics.drainHot, metrics.drainTransactions]) results.unavailable(metric, id, why);
  }

  // The warm drain: the same running workers (JIT warm, connections open, tables that have seen a
  // drain) take a second batch of the same size.
  ctx.step(`${id}: bulk enqueue + drain at concurrency ${concurrency}, warm worker`);
  await system.enqueueBulk(tasksFor(warmTag, options.tasks));
  const warm = await waitForDrain(ctx);
  await recordDrain(ctx, metrics.drainWarm, `drain c${concurrency}, warm worker`, await worker.stop(), warm.drained, warm.endedAt);
}

const WAL_NOTE = "the WAL is the whole server's: anything else writing to it during the drain is counted too (the next row keeps this database's records only)";

/** Waits until every task has started and the store holds none unfinished, or the drain budget ends. */
async function waitForDrain(ctx: Pick<SuiteContext, 'system' | 'worker' | 'options'>): Promise<{ drained: boolean; endedAt: number }> {
  const budgetEnd = performance.now() + ctx.options.drainBudgetMs;
  const allSeen = await ctx.worker.allSeen(ctx.options.drainBudgetMs);
  const drained = allSeen !== null && (await pollUntil(async () => (await ctx.system.remaining()) === 0, Math.max(0, budgetEnd - performance.now())));
  return { drained, endedAt: preciseNow() };
}

/** Audits one drain and records its rate; returns how many distinct tasks ran. */
async function recordDrain(ctx: SuiteContext, metric: Metric, workload: string, report: WorkerReport, drained: boolean, endedAt: number): Promise<number> {
  const { system, options, results, definition } = ctx;
  if (process.env.BENCH_DEBUG && report.firstStartAt !== null) {
    process.stderr.write(
      `\n[debug] ${definition.id} ${workload}: handlers ${(((report.lastStartAt ?? 0) - report.firstStartAt) / 1000).toFixed(3)} s, store drained ${((endedAt - report.firstStartAt) / 1000).toFixed(3)} s\n`,
    );
  }
  const remaining = await system.remaining();
  const check = auditExactlyOnce({ run: ctx.run, workload, system: definition.id, expected: options.tasks, report, remaining });
  results.check(check);
  if (report.firstStartAt === null) {
    results.add(metric, definition.id, 0, 'no task started within the time budget');
  } else {
    const seconds = (endedAt - report.firstStartAt) / 1000;
    const note = drained ? undefined : `did not finish within ${options.drainBudgetMs / 1000} s: rate of the ${check.distinct.toLocaleString('en-US')} of ${options.tasks.toLocaleString('en-US')} that ran`;
    results.add(metric, definition.id, check.distinct / seconds, note);
  }
  if (remaining > 0) await system.purge();
  return check.distinct;
}

/**
 * What a PostgreSQL-backed system's database has done so far: the WAL position, the row writes to
 * its schema's tables and the database's transactions. The WAL position is read first, as it is (it
 * needs no flush); then both processes' connections publish their pending statistics, so the
 * counters are exact without waiting on the statistics system.
 */
async function readDatabase(ctx: SuiteContext, location: Extract<Location, { kind: 'postgres' }>): Promise<{ wal: string; writes: TableWrites; transactions: number }> {
  const wal = await walPosition();
  await Promise.all([ctx.worker.flushStatistics(), flushPgStatistics()]);
  return { wal, writes: await tableWrites(location.database, location.schema), transactions: await databaseTransactions(location.database) };
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
