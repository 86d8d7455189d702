/**
 * Diagnostic: which engine calls an idle Conveyor worker makes, per second, next to the transactions
 * PostgreSQL counts for its database. `node --import tsx bench/tools/idle-calls.ts [seconds]
 * [postgres|sqlite]`. Explains the idle-cost figure of `npm run bench`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createEngine } from '../../test/helpers/create-engine.ts';
import type { Engine } from '../../src/store/engine.ts';
import { Worker } from '../../src/worker/worker.ts';
import { databaseTransactions } from '../bench-databases.ts';
import { allocateLocation, releaseLocation } from '../harness/locations.ts';
import { benchRegistry, conveyor, conveyorDatabaseUrl } from '../systems/conveyor.ts';

const seconds = Number(process.argv[2] ?? 20);
const store = process.argv[3] === 'sqlite' ? 'sqlite' : 'postgres';
const location = await allocateLocation(conveyor(store));
const url = conveyorDatabaseUrl(location);
const setup = createEngine(url);
await setup.migrate();
await setup.close();

const calls = new Map<string, number>();
const engine = createEngine(url);
const counted = new Proxy(engine, {
  get(target, property, receiver) {
    const value = Reflect.get(target, property, receiver) as unknown;
    if (typeof value !== 'function') return value;
    return (...args: unknown[]) => {
      calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
      return (value as (...a: unknown[]) => unknown).apply(target, args);
    };
  },
}) as Engine;

const worker = new Worker({ engine: counted, registry: benchRegistry(() => {}), config: { worker: { concurrency: 10 } } });
await worker.start();
await sleep(3000);
calls.clear();
const before = location.kind === 'postgres' ? await databaseTransactions(location.database) : 0;
await sleep(seconds * 1000);
const after = location.kind === 'postgres' ? await databaseTransactions(location.database) : 0;
const snapshot = new Map(calls);
await worker.stop();
await engine.close();
await releaseLocation(location);

console.log(`idle Conveyor worker (${store}, concurrency 10), ${seconds} s:`);
for (const [method, count] of [...snapshot].sort((a, b) => b[1] - a[1])) console.log(`  ${method.padEnd(22)} ${(count / seconds).toFixed(2)}/s`);
if (location.kind === 'postgres') console.log(`  PostgreSQL transactions: ${((after - before) / seconds).toFixed(2)}/s`);
