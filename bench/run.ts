/**
 * `npm run bench [-- --quick] [--runs n] [--systems a,b] [--skip idle,http,micro,docs] [--docs-from results.json] [--help]`: Conveyor (PostgreSQL and
 * SQLite), graphile-worker, pg-boss and BullMQ through the same workloads in one run. Writes
 * bench/results/<time>.json, prints the tables, and regenerates docs/benchmarks.md with its charts.
 * Exits 1 when any workload fails its exactly-once audit.
 *
 * Diagnostics: BENCH_CPU_PROF=<dir> writes a CPU profile per worker/API process (summarise one with
 * bench/tools/profile-summary.ts); BENCH_DEBUG=1 prints each drain's timings to stderr.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { BENCH_REDIS, postgresVersion } from './bench-databases.ts';
import { measureIdleCost } from './harness/idle-cost.ts';
import { runHttpBench } from './harness/http-bench.ts';
import { allocateLocation, releaseLocation } from './harness/locations.ts';
import { benchMetrics } from './harness/metrics.ts';
import { benchOptions } from './harness/options.ts';
import { Results } from './harness/results.ts';
import { gitCommit, machineInfo } from './harness/run-info.ts';
import type { RunRecord } from './harness/run-record.ts';
import { runSystemSuite, suiteSteps, warmUpDrain } from './harness/system-suite.ts';
import { WorkerProcess } from './harness/worker-process.ts';
import { writeDocsPage } from './report/docs-page.ts';
import { auditTable, sectionTables, storeMicroTable, targetsTable } from './report/markdown-report.ts';
import { runScale } from './scale/run-scale.ts';
import { SCALE_PAGE, writeScaleDocsPage } from './scale/scale-docs-page.ts';
import { scaleOptions, type ScaleOptions } from './scale/scale-options.ts';
import type { ScaleRecord } from './scale/scale-record.ts';
import { runStoreMicro } from './store-micro.ts';
import { allSystems } from './systems/all-systems.ts';
import { bullmqDriver } from './systems/bullmq.ts';
import { packageVersion } from './systems/package-version.ts';
import { redisInfo } from './systems/redis-info.ts';
import type { BenchSystem, Location, SystemDefinition } from './systems/system.ts';
import type { Measurement } from './stats.ts';

const USAGE = `Usage: npm run bench [-- options]
  --quick              5,000-task workloads, 1 run (under 3 minutes); the default is 20,000 tasks, 3 runs (about 28 minutes)
  --runs <n>           runs per system
  --systems <a,b>      only these systems: ${allSystems().map((s) => s.id).join(', ')}
  --skip <a,b>         skip sections: idle, http, micro, docs
  --docs-from <file>   rewrite docs/benchmarks.md (or, from a --scale run, docs/benchmarks-scale.md) from a recorded run (bench/results/<run>.json); runs nothing
  --scale              instead of the above: Conveyor with a large finished history (issue 16): API reads p50/p99, an open
                       dashboard's statements, drain against an empty database, prune cycles; writes docs/benchmarks-scale.md.
                       10,000,000 tasks on PostgreSQL and 1,000,000 on SQLite (hours); with --quick 200,000 and 100,000
  --scale-rows-postgres <n>  with --scale: the PostgreSQL history's size (0 skips PostgreSQL)
  --scale-rows-sqlite <n>    with --scale: the SQLite history's size (0 skips SQLite)
  --scale-prune-cycles <n>   with --scale: prune cycles held to the flat-size target (default 5)
  --scale-settle-cycles <n>  with --scale: prune cycles before those, to reach the steady state (default 9:
                             a week's days replaced, then the two VACUUMs before freed index pages are reused)
  --help               this text`;
let parsed: ReturnType<typeof parseBenchArgs>;
try {
  parsed = parseBenchArgs();
} catch (error) {
  // A mistyped flag must not start a 25-minute run.
  console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
if (parsed.help) {
  console.log(USAGE);
  process.exit(0);
}
function parseBenchArgs() {
  return parseArgs({
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      systems: { type: 'string' },
      skip: { type: 'string' },
      'docs-from': { type: 'string' },
      scale: { type: 'boolean', default: false },
      'scale-rows-postgres': { type: 'string' },
      'scale-rows-sqlite': { type: 'string' },
      'scale-prune-cycles': { type: 'string' },
      'scale-settle-cycles': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
}
// Rewrites docs/benchmarks.md from a recorded run (after a change to the page's template), runs nothing.
const docsFrom = parsed['docs-from'];
if (docsFrom) {
  const record = JSON.parse(readFileSync(docsFrom, 'utf8')) as RunRecord | ScaleRecord;
  if ('engines' in record) writeScaleDocsPage(record, docsFrom);
  else writeDocsPage(record, docsFrom);
  console.log(`docs/${'engines' in record ? SCALE_PAGE : 'benchmarks.md'} rewritten from ${docsFrom}`);
  process.exit(0);
}
if (parsed.scale) {
  let scale: ScaleOptions;
  try {
    scale = scaleOptions({ quick: parsed.quick, rowsPostgres: parsed['scale-rows-postgres'], rowsSqlite: parsed['scale-rows-sqlite'], pruneCycles: parsed['scale-prune-cycles'], settleCycles: parsed['scale-settle-cycles'] });
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(2);
  }
  const skipped = new Set((parsed.skip ?? '').split(',').filter(Boolean));
  const record = await runScale({ options: scale, quick: parsed.quick, writeDocs: !skipped.has('docs') });
  const failed = record.engines.some((e) => e.errors.length > 0 || (e.drain?.audits.some((a) => !a.ok) ?? false));
  process.exit(failed ? 1 : 0);
}
if (parsed['scale-rows-postgres'] !== undefined || parsed['scale-rows-sqlite'] !== undefined || parsed['scale-prune-cycles'] !== undefined || parsed['scale-settle-cycles'] !== undefined) {
  console.error(`--scale-rows-* and --scale-*-cycles only go with --scale\n\n${USAGE}`);
  process.exit(2);
}
const quick = parsed.quick;
const skip = new Set((parsed.skip ?? '').split(',').filter(Boolean));
const errors: string[] = [];
const wanted = parsed.systems?.split(',').filter(Boolean) ?? null;
const systems = allSystems().filter((s) => !wanted || wanted.includes(s.id));
if (systems.length === 0) throw new Error(`--systems matched nothing; known: ${allSystems().map((s) => s.id).join(', ')}`);

// A peer library's unheard 'error' event (a connection the server dropped) must not end the whole
// run: it is recorded, and the workload it hit fails its audit or its time budget instead.
process.on('uncaughtException', (error) => {
  const database = (error as { client?: { connectionParameters?: { database?: string } } }).client?.connectionParameters?.database;
  errors.push(`uncaught: ${error instanceof Error ? error.message : String(error)}${database ? ` (a connection to ${database})` : ''}`);
});

const runsArg = parsed.runs;
const options = { ...benchOptions(quick), ...(runsArg ? { runs: Math.max(1, Number(runsArg)) } : {}) };
const metrics = benchMetrics(options);
const results = new Results();
const startedAt = new Date();
const conveyors = systems.filter((s) => s.product === 'conveyor');

const totalSteps =
  1 +
  options.runs * systems.length * (1 + suiteSteps(options)) +
  (skip.has('idle') ? 0 : 1) +
  (skip.has('http') ? 0 : options.runs * conveyors.length) +
  (skip.has('micro') ? 0 : options.micro.runs * 4);
const bar = new cliProgress.SingleBar(
  { format: '{bar} {percentage}% | {value}/{total} | {duration_formatted} | {step}', hideCursor: true, noTTYOutput: true, notTTYSchedule: 10_000, etaBuffer: 20 },
  cliProgress.Presets.shades_classic,
);
bar.start(totalSteps, 0, { step: 'starting' });
let stepsDone = 0;
const step = (label: string) => {
  bar.update(stepsDone++, { step: label });
};

// The bench's first drain ran slowest whichever system took it (13,634 tasks/s against 19,634 and
// 19,620 for the same system in the two later runs, 2026-12-07): the database server and the machine
// had been idle. One drain that counts for nobody goes first.
step(`warm-up: one drain of ${systems[0]!.id} that counts for nobody`);
await onFreshSystem(systems[0]!, 'warm-up', (context) => warmUpDrain({ ...context, options })).catch(() => {}); // recorded in errors

for (let run = 1; run <= options.runs; run++) {
  for (const definition of inRunOrder(systems, run)) {
    step(`run ${run}/${options.runs} ${definition.id}: fresh database, migrate, start worker process`);
    const stepsBefore = stepsDone;
    await onFreshSystem(definition, `run ${run}`, (context) =>
      runSystemSuite({ ...context, options, metrics, results, run, step: (label) => step(`run ${run}/${options.runs} ${label}`) }),
    ).catch((error: unknown) => {
      results.check({ run, workload: 'suite', system: definition.id, expected: 0, ran: 0, distinct: 0, duplicates: 0, remaining: 0, lost: 0, stray: 0, finished: false, ok: false, detail: `error: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` });
    });
    stepsDone = stepsBefore + suiteSteps(options);
  }
  if (!skip.has('http')) {
    for (const definition of conveyors) {
      step(`run ${run}/${options.runs} ${definition.id}: HTTP POST /tasks and GET /tasks/:id`);
      try {
        await runHttpBench({ definition, run, options, metrics, results });
      } catch (error) {
        errors.push(`run ${run}, ${definition.id} HTTP: ${error instanceof Error ? error.message : String(error)}`);
        for (const connections of options.httpConnections) {
          results.unavailable(metrics.http('POST /tasks', connections), definition.id, `could not run: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
        }
      }
    }
  }
}

let idleSource: string | null = null;
if (!skip.has('idle')) {
  step(`idle cost: one idle worker per system for ${(options.idleWarmupMs + options.idleWindowMs) / 1000} s`);
  try {
    idleSource = (await measureIdleCost({ systems, options, metrics, results })).postgres;
  } catch (error) {
    errors.push(`idle cost: ${error instanceof Error ? error.message : String(error)}`);
  }
}

let storeMicro: Measurement[] = [];
if (!skip.has('micro')) {
  try {
    storeMicro = await runStoreMicro(options.micro, (label) => step(`store micro-benchmark: ${label}`));
  } catch (error) {
    errors.push(`store micro-benchmark: ${error instanceof Error ? error.message : String(error)}`);
  }
}
bar.update(totalSteps, { step: 'writing the report' });
bar.stop();

const record: RunRecord = {
  startedAt: startedAt.toISOString(),
  durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
  quick,
  options,
  machine: machineInfo(),
  versions: await versions(),
  gitCommit: gitCommit(),
  idleSource,
  systems: systems.map(({ id, label, product, store, tuned, settings, version }) => ({ id, label, product, store, tuned, settings, version })),
  metrics: [...results.metrics.values()],
  results: results.list(),
  checks: results.checks,
  storeMicro,
  errors,
};

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(`./results/${startedAt.toISOString().replaceAll(':', '-')}${quick ? '-quick' : ''}.json`, import.meta.url);
writeFileSync(file, JSON.stringify(record, null, 2));
if (!skip.has('docs')) writeDocsPage(record, file.pathname);

console.log(`\nMachine: ${record.machine.cpus} × ${record.machine.cpu}, ${record.machine.memoryGiB} GiB, Node ${record.machine.node}; ${quick ? 'quick' : 'full'} run, ${Math.round(record.durationSeconds)} s\n`);
console.log('## Targets\n');
console.log(targetsTable(record));
console.log(sectionTables(record));
console.log('## Exactly-once audit\n');
console.log(auditTable(record));
if (storeMicro.length > 0) console.log(`## Store micro-benchmark\n\n${storeMicroTable(record)}`);
for (const error of errors) console.log(`error: ${error}`);
console.log(`Results: ${file.pathname}${skip.has('docs') ? '' : '; docs/benchmarks.md regenerated'}`);
process.exit(results.failures.length > 0 ? 1 : 0);

async function versions(): Promise<Record<string, string>> {
  const pkg = (name: string) => packageVersion(name) ?? 'not installed';
  const found: Record<string, string> = {
    conveyor: (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version,
    'graphile-worker': pkg('graphile-worker'),
    'pg-boss': pkg('pg-boss'),
    bullmq: `${pkg('bullmq')} (Redis driver: ${bullmqDriver})`,
    pg: pkg('pg'),
    'better-sqlite3': pkg('better-sqlite3'),
    autocannon: pkg('autocannon'),
  };
  try {
    found.PostgreSQL = await postgresVersion();
  } catch {
    found.PostgreSQL = 'unreachable';
  }
  try {
    const info = await redisInfo(BENCH_REDIS, 'server');
    found.Redis = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    found.Redis = 'unreachable';
  }
  return found;
}

/**
 * The systems in the order run `run` (from 1) takes them: each run starts one system later, so no
 * system always goes first, onto a database server and machine that have just been idle, nor always
 * last. (A bench's first drain has run slowest: 12,088 tasks/s against 16,519 and 19,076 for the
 * same system in the two later runs, in one bench of 2026-12-07.)
 */
function inRunOrder<T>(systems: readonly T[], run: number): T[] {
  const first = (run - 1) % systems.length;
  return [...systems.slice(first), ...systems.slice(0, first)];
}

/**
 * Runs `work` with `definition` on a fresh database and a fresh worker process, and tears both down
 * whatever happens. A failure is recorded as an error of `label` and rethrown.
 */
async function onFreshSystem(definition: SystemDefinition, label: string, work: (context: { definition: SystemDefinition; system: BenchSystem; location: Location; worker: WorkerProcess }) => Promise<void>): Promise<void> {
  const location = await allocateLocation(definition);
  const system = definition.open(location);
  let worker: WorkerProcess | null = null;
  try {
    await system.setup();
    worker = await WorkerProcess.spawn();
    await work({ definition, system, location, worker });
  } catch (error) {
    errors.push(`${label}, ${definition.id}: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env.BENCH_DEBUG) process.stderr.write(`\n[debug] ${definition.id} ${label} failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    throw error;
  } finally {
    await worker?.exit().catch(() => {});
    await system.destroy?.().catch(() => {});
    await system.close().catch(() => {});
    await releaseLocation(location).catch(() => {});
  }
}
