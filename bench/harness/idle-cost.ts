/**
 * The database's cost of an idle worker: one worker of each system, alone in its own database (or
 * Redis prefix), with nothing to do. After a warm-up the run counts, over a window, the statements
 * the database executed for that database: pg_stat_statements calls when the server preloads it,
 * else committed + rolled-back transactions from pg_stat_database (an idle worker's statements are
 * autocommitted, so each is one transaction). For BullMQ it counts Redis commands.
 *
 * The systems idle at the same time, each in its own database, so that the window is paid once;
 * their counts cannot mix.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_REDIS, databaseStatements, databaseTransactions } from '../bench-databases.ts';
import { redisInfo } from '../systems/redis-info.ts';
import type { SystemDefinition } from '../systems/system.ts';
import { allocateLocation, releaseLocation } from './locations.ts';
import type { BenchMetrics } from './metrics.ts';
import type { BenchOptions } from './options.ts';
import type { Results } from './results.ts';
import { WorkerProcess } from './worker-process.ts';

export interface IdleSource {
  /** How the count was taken, for the report. */
  postgres: 'pg_stat_statements' | 'pg_stat_database (transactions)';
}

export async function measureIdleCost(p: { systems: SystemDefinition[]; options: BenchOptions; metrics: BenchMetrics; results: Results }): Promise<IdleSource> {
  const { options, metrics, results } = p;
  let source: IdleSource['postgres'] = 'pg_stat_database (transactions)';
  await Promise.all(
    p.systems.map(async (definition) => {
      if (definition.store === 'sqlite') {
        results.unavailable(metrics.idle, definition.id, 'SQLite has no statement counter');
        return;
      }
      const location = await allocateLocation(definition);
      const setup = definition.open(location);
      let worker: WorkerProcess | null = null;
      try {
        await setup.setup();
        await setup.close();
        worker = await WorkerProcess.spawn();
        await worker.start({ systemId: definition.id, location, concurrency: options.idleConcurrency, tag: 'idle', expected: 0 });
        // The window is the measurement itself: a fixed stretch of wall-clock time.
        await sleep(options.idleWarmupMs);
        const read = async (): Promise<number> => {
          if (location.kind === 'postgres') {
            const statements = await databaseStatements(location.database);
            if (statements !== null) {
              source = 'pg_stat_statements';
              return statements;
            }
            return databaseTransactions(location.database);
          }
          return redisCommands();
        };
        const before = await read();
        const started = performance.now();
        await sleep(options.idleWindowMs);
        const after = await read();
        const seconds = (performance.now() - started) / 1000;
        // Our own INFO call is one of the counted Redis commands.
        const own = location.kind === 'redis' ? 1 : 0;
        results.add(metrics.idle, definition.id, Math.max(0, after - before - own) / seconds, location.kind === 'redis' ? 'Redis commands/s (all of the Redis server)' : undefined);
        await worker.stop();
      } finally {
        await worker?.exit();
        if (location.kind === 'redis') {
          const cleanup = definition.open(location);
          await cleanup.destroy?.();
          await cleanup.close();
        }
        await releaseLocation(location);
      }
    }),
  );
  return { postgres: source };
}

async function redisCommands(): Promise<number> {
  const match = /total_commands_processed:(\d+)/.exec(await redisInfo(BENCH_REDIS, 'stats'));
  return match ? Number(match[1]) : 0;
}
