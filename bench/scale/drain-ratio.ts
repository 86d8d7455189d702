/**
 * Drain throughput with the history kept against an empty database: the same no-op tasks, bulk
 * enqueued, run by the bench's worker process (the Worker class `conveyor work` runs), audited
 * exactly-once, timed from the first handler start until the store has none left unfinished.
 */
import { auditExactlyOnce } from '../harness/audit.ts';
import { allocateLocation, releaseLocation } from '../harness/locations.ts';
import type { Check } from '../harness/results.ts';
import { WorkerProcess } from '../harness/worker-process.ts';
import { pollUntil } from '../systems/poll.ts';
import { preciseNow, type Location, type SystemDefinition } from '../systems/system.ts';

export interface DrainFigure {
  tasksPerSecond: number;
  check: Check;
}

const BUDGET_MS = 300_000;

export async function drainOnce(p: { definition: SystemDefinition; location: Location; tasks: number; concurrency: number; label: string }): Promise<DrainFigure> {
  const system = p.definition.open(p.location);
  const worker = await WorkerProcess.spawn();
  try {
    await system.setup();
    const tag = `scale-drain-${p.label}`;
    await system.enqueueBulk(Array.from({ length: p.tasks }, (_, i) => ({ w: tag, i, t: 0 })));
    await worker.start({ systemId: p.definition.id, location: p.location, concurrency: p.concurrency, tag, expected: p.tasks });
    const budgetEnd = performance.now() + BUDGET_MS;
    const allSeen = await worker.allSeen(BUDGET_MS);
    if (allSeen !== null) await pollUntil(async () => (await system.remaining()) === 0, Math.max(0, budgetEnd - performance.now()), 20);
    const endedAt = preciseNow();
    const report = await worker.stop();
    const remaining = await system.remaining();
    const check = auditExactlyOnce({ run: 1, workload: `scale drain (${p.label})`, system: p.definition.id, expected: p.tasks, report, remaining });
    const seconds = report.firstStartAt === null ? Number.POSITIVE_INFINITY : (endedAt - report.firstStartAt) / 1000;
    return { tasksPerSecond: check.distinct / seconds, check };
  } finally {
    await worker.exit().catch(() => {});
    await system.close().catch(() => {});
  }
}

/** The same drain on a fresh, empty database of the same engine. */
export async function drainEmpty(p: { definition: SystemDefinition; tasks: number; concurrency: number }): Promise<DrainFigure> {
  const location = await allocateLocation(p.definition);
  try {
    return await drainOnce({ ...p, location, label: 'empty' });
  } finally {
    await releaseLocation(location);
  }
}
