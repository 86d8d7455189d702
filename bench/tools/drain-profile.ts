/**
 * Diagnostic: one Conveyor drain in one process, with the CPU it cost on each side. Enqueues N no-op
 * tasks into a fresh PostgreSQL database (or SQLite file), then starts a Worker and times it until
 * all have run, reporting tasks/s, this process's CPU per task and the database server's CPU per
 * task (PostgreSQL backends, read from /proc), and the statements the worker sent. With
 * DRAIN_CPU_PROFILE=<file> it writes a V8 CPU profile of the drain alone (enqueue excluded); summarise it
 * with bench/tools/profile-summary.ts. On PostgreSQL it also reports the WAL the server wrote during
 * the drain (the whole server's: run it on a quiet one), and DRAIN_SQL='<statements>' runs on the
 * fresh database before the enqueue, to see what a schema change would save (for example
 * DRAIN_SQL='DROP INDEX conveyor.tasks_history_type_idx': what that index costs the drain), and
 * DRAIN_WALDUMP='<pg_waldump> <pg_wal directory>' prints that WAL by record kind (on the server's machine).
 *
 *   node --import tsx bench/tools/drain-profile.ts [postgres|sqlite] [tasks] [concurrency] [repeat]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ConveyorClient } from '../../src/client/conveyor-client.ts';
import { createEngine } from '../../test/helpers/create-engine.ts';
import { Worker } from '../../src/worker/worker.ts';
import { sampleServerCpu, serverCpuBetween } from '../bench-databases.ts';
import { allocateLocation, releaseLocation } from '../harness/locations.ts';
import { watchPgClients } from '../harness/pg-clients.ts';
import { benchRegistry, conveyor, conveyorDatabaseUrl } from '../systems/conveyor.ts';
import { WORK_QUEUE, type BenchTask } from '../systems/system.ts';

/** Statements sent per name during the drain, and the rows they returned. */
const statements = new Map<string, { calls: number; rows: number }>();
watchPgClients((args, result) => {
  const config = args[0] as { name?: string; text?: string } | string;
  const name = typeof config === 'string' ? config.slice(0, 40) : (config.name ?? config.text?.slice(0, 40) ?? '?');
  const entry = statements.get(name) ?? { calls: 0, rows: 0 };
  statements.set(name, entry);
  entry.calls += 1;
  if (result instanceof Promise) void result.then((r: { rowCount?: number | null }) => (entry.rows += r?.rowCount ?? 0), () => {});
});

const [store = 'postgres', tasksArg = '20000', concurrencyArg = '10', repeatArg = '3'] = process.argv.slice(2);
const tasks = Number(tasksArg);
const concurrency = Number(concurrencyArg);

for (let round = 1; round <= Number(repeatArg); round++) {
  const location = await allocateLocation(conveyor(store === 'sqlite' ? 'sqlite' : 'postgres'));
  const url = conveyorDatabaseUrl(location);
  const client = await ConveyorClient.open({ databaseUrl: url });
  const admin = location.kind === 'postgres' ? new pg.Client({ connectionString: location.url }) : null;
  await admin?.connect();
  if (admin && process.env.DRAIN_SQL) await admin.query(process.env.DRAIN_SQL);
  if (location.kind === 'sqlite' && process.env.DRAIN_SQL) {
    const file = new Database(location.file);
    file.exec(process.env.DRAIN_SQL);
    file.close();
  }
  const walLsn = async () => (admin ? (await admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn : null);
  const payloads: BenchTask[] = Array.from({ length: tasks }, (_, i) => ({ w: 'p', i, t: 0 }));
  const enqueueStarted = performance.now();
  await client.enqueueMany(payloads.map((payload) => ({ taskType: WORK_QUEUE, payload })));
  const enqueueMs = performance.now() - enqueueStarted;

  let seen = 0;
  let firstAt = 0;
  let resolveAll: () => void;
  const allSeen = new Promise<void>((resolve) => (resolveAll = resolve));
  const registry = benchRegistry(() => {
    if (seen === 0) firstAt = performance.now();
    if (++seen === tasks) resolveAll();
  });
  const engine = createEngine(url);
  const worker = new Worker({ engine, registry, config: { worker: { concurrency } } });
  await worker.start();
  statements.clear();
  const profileFile = process.env.DRAIN_CPU_PROFILE;
  const inspector = profileFile ? new Session() : null;
  if (inspector) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: Number(process.env.DRAIN_CPU_PROFILE_INTERVAL_US ?? 1000) });
    await inspector.post('Profiler.start');
  }
  const heapFile = process.env.DRAIN_HEAP_PROFILE;
  const heap = heapFile ? new Session() : null;
  if (heap) {
    heap.connect();
    await heap.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
  }
  const cpuBefore = process.cpuUsage();
  const pgBefore = sampleServerCpu('postgres');
  const walBefore = await walLsn();
  await allSeen;
  const drainMs = performance.now() - firstAt;
  const cpu = process.cpuUsage(cpuBefore);
  const pgAfter = sampleServerCpu('postgres');
  const pgMs = pgBefore && pgAfter ? serverCpuBetween(pgBefore, pgAfter) : 0;
  if (inspector && profileFile) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
    inspector.disconnect();
  }
  if (heap && heapFile) {
    const { profile } = await heap.post('HeapProfiler.stopSampling');
    writeFileSync(heapFile, JSON.stringify(profile));
    heap.disconnect();
  }
  const counted = [...statements].map(([name, { calls, rows }]) => `${name.replace(/^conveyor_conveyor_/, '')} ${calls}× ${(rows / calls).toFixed(1)} rows`);
  await worker.stop();
  // After the stop, which writes the last completions.
  const walAfter = await walLsn();
  const walBytes = admin && walBefore && walAfter ? Number((await admin.query<{ n: string }>('SELECT pg_wal_lsn_diff($1, $2) AS n', [walAfter, walBefore])).rows[0]!.n) : null;
  // DRAIN_WALDUMP=<pg_waldump> <pg_wal directory>: the WAL's records by kind, read before dropping the
  // database (which forces a checkpoint that may recycle the segments).
  if (process.env.DRAIN_WALDUMP && walBefore && walAfter) {
    const [bin, dir] = process.env.DRAIN_WALDUMP.split(' ');
    process.stdout.write(execFileSync(bin!, ['--stats=record', '-s', walBefore, '-e', walAfter, '-p', dir!], { encoding: 'utf8' }));
  }
  await engine.close();
  await client.close();
  await admin?.end();
  await releaseLocation(location);
  const perTask = (ms: number) => ((ms * 1000) / tasks).toFixed(1);
  process.stdout.write(
    `${store} round ${round}: enqueue ${Math.round(tasks / (enqueueMs / 1000))}/s; drain ${Math.round(tasks / (drainMs / 1000))}/s; ` +
      `worker CPU ${perTask((cpu.user + cpu.system) / 1000)} µs/task (system ${perTask(cpu.system / 1000)}); PostgreSQL server CPU ${perTask(pgMs)} µs/task` +
      `${walBytes === null ? '' : `, WAL ${Math.round(walBytes / tasks)} B/task`}\n  ${counted.join('; ')}\n`,
  );
}
