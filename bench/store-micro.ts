/**
 * Engine micro-benchmark (issue 2): how fast each engine inserts in bulk and runs claim + complete,
 * with no worker around it. Each figure is the median of `runs` fresh databases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newTask } from '../src/core/new-task.ts';
import { createEngine } from '../test/helpers/create-engine.ts';
import type { Engine } from '../src/store/engine.ts';
import { benchPostgresUrl, dropPostgresSchema } from './bench-databases.ts';
import { median, type Measurement } from './stats.ts';

export interface MicroOptions {
  tasks: number;
  runs: number;
  /** Concurrent claimers for the claim + complete loop. */
  claimers: number;
  batch: number;
}

async function withEngine<T>(kind: 'sqlite' | 'postgres', fn: (url: string, engine: Engine) => Promise<T>): Promise<T> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-bench-'));
    const url = `sqlite:${join(dir, 'bench.db')}`;
    const engine = createEngine(url);
    try {
      await engine.migrate();
      return await fn(url, engine);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const { url, schema } = benchPostgresUrl();
  const engine = createEngine(url);
  try {
    await engine.migrate();
    return await fn(url, engine);
  } finally {
    await engine.close();
    await dropPostgresSchema(schema);
  }
}

async function insertMany(engine: Engine, count: number): Promise<number> {
  const now = new Date();
  const tasks = Array.from({ length: count }, (_, n) => newTask({ taskType: 'noop', payload: { n } }, now));
  const started = performance.now();
  await engine.taskInsertMany({ tasks });
  return count / ((performance.now() - started) / 1000);
}

async function claimComplete(url: string, engine: Engine, options: MicroOptions): Promise<number> {
  const now = new Date();
  await engine.taskInsertMany({ tasks: Array.from({ length: options.tasks }, (_, n) => newTask({ taskType: 'noop', payload: { n } }, now)) });
  const claimers = Array.from({ length: options.claimers }, () => createEngine(url));
  const started = performance.now();
  let done = 0;
  await Promise.all(
    claimers.map(async (claimer, n) => {
      const workerId = `bench-${n}`;
      for (;;) {
        const batch = await claimer.taskClaim({ workerId, taskTypes: ['noop'], limit: options.batch, now: new Date(), leaseMs: 60_000 });
        if (batch.length === 0) return;
        await Promise.all(batch.map((task) => claimer.taskComplete({ lease: { id: task.id, attempt: task.currentAttempt, workerId }, output: null, now: new Date() })));
        done += batch.length;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(claimers.map((c) => c.close()));
  if (done !== options.tasks) throw new Error(`claimed ${done} of ${options.tasks} tasks`);
  return done / seconds;
}

export async function runStoreMicro(options: MicroOptions, onStep: (label: string) => void): Promise<Measurement[]> {
  const results: Measurement[] = [];
  for (const kind of ['sqlite', 'postgres'] as const) {
    const inserts: number[] = [];
    const cycles: number[] = [];
    for (let run = 0; run < options.runs; run++) {
      onStep(`${kind} insert-many run ${run + 1}/${options.runs}`);
      inserts.push(await withEngine(kind, (_url, engine) => insertMany(engine, options.tasks)));
      onStep(`${kind} claim+complete run ${run + 1}/${options.runs}`);
      cycles.push(await withEngine(kind, (url, engine) => claimComplete(url, engine, options)));
    }
    results.push({ workload: `insert-many ${options.tasks}`, system: `conveyor-${kind}`, unit: 'tasks/s', samples: inserts, median: median(inserts) });
    results.push({
      workload: `claim+complete ${options.tasks} (${options.claimers} claimers, batch ${options.batch})`,
      system: `conveyor-${kind}`,
      unit: 'tasks/s',
      samples: cycles,
      median: median(cycles),
    });
  }
  return results;
}
