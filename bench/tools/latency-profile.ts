/**
 * Diagnostic: where insert-to-start latency goes. An idle Conveyor worker (in this process) and a
 * steady stream of single inserts at `rate` per second; for each task, how long the insert call took
 * and how long from its return to the handler's start, as p50/p95/p99/max.
 *
 *   node --import tsx bench/tools/latency-profile.ts [postgres|sqlite] [rate] [count]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConveyorClient } from '../../src/client/conveyor-client.ts';
import { createEngine } from '../../test/helpers/create-engine.ts';
import { Worker } from '../../src/worker/worker.ts';
import { allocateLocation, releaseLocation } from '../harness/locations.ts';
import { percentile } from '../stats.ts';
import { benchRegistry, conveyor, conveyorDatabaseUrl } from '../systems/conveyor.ts';
import { WORK_QUEUE } from '../systems/system.ts';

const [store = 'postgres', rateArg = '50', countArg = '500'] = process.argv.slice(2);
const rate = Number(rateArg);
const count = Number(countArg);

const location = await allocateLocation(conveyor(store === 'sqlite' ? 'sqlite' : 'postgres'));
const url = conveyorDatabaseUrl(location);
const client = await ConveyorClient.open({ databaseUrl: url });

const insertMs: number[] = [];
const afterInsertMs: number[] = [];
const totalMs: number[] = [];
const returnedAt = new Map<number, number>();
const startedAt = new Map<number, number>();
const registry = benchRegistry((task) => startedAt.set(task.i, performance.now()));
const engine = createEngine(url);
const worker = new Worker({ engine, registry, config: { worker: { concurrency: 10 } } });
await worker.start();
await sleep(1000);

const sentAt = new Map<number, number>();
const inserts: Promise<void>[] = [];
const begin = performance.now();
for (let i = 0; i < count; i++) {
  await sleep(Math.max(0, begin + (i / rate) * 1000 - performance.now()));
  sentAt.set(i, performance.now());
  inserts.push(client.enqueue({ taskType: WORK_QUEUE, payload: { w: 'p', i, t: 0 } }).then(() => void returnedAt.set(i, performance.now())));
}
await Promise.all(inserts);
while (startedAt.size < count) await sleep(10);
await worker.stop();
await engine.close();
await client.close();
await releaseLocation(location);

for (let i = 0; i < count; i++) {
  insertMs.push(returnedAt.get(i)! - sentAt.get(i)!);
  afterInsertMs.push(startedAt.get(i)! - returnedAt.get(i)!);
  totalMs.push(startedAt.get(i)! - sentAt.get(i)!);
}
const line = (label: string, values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => percentile(sorted, p).toFixed(2);
  return `${label.padEnd(22)} p50 ${at(50)}  p95 ${at(95)}  p99 ${at(99)}  max ${sorted.at(-1)!.toFixed(2)} ms`;
};
process.stdout.write(`${store} at ${rate}/s, ${count} tasks\n${line('insert call', insertMs)}\n${line('insert return → start', afterInsertMs)}\n${line('insert-to-start', totalMs)}\n`);
