/**
 * Pruning at scale: each cycle adds a day's worth of finished tasks through the bulk path (the day
 * after the history's newest), then lets the product's pruner (`Pruner.runOnce()`, called until it
 * deletes nothing, on a clock a day further on) delete the oldest day, which has aged past the
 * retention. The table's size after each cycle shows whether deletes leave it bloated.
 *
 * The first `settle` cycles bring the table to its steady state (scale-options.ts settleCycles) and are
 * reported but not held to the flat-size target; the `cycles` after them are.
 */
import type { ConveyorClient } from '../../src/client/conveyor-client.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Pruner } from '../../src/worker/maintenance/pruner.ts';
import { buildHistory } from './build-history.ts';
import type { HistoryStore, TableSize } from './history-store.ts';
import { RETENTION_DAYS } from './scale-options.ts';
import { untilDone } from './until-done.ts';

const DAY_MS = 86_400_000;

export interface PruneCycle {
  cycle: number;
  /** One of the cycles that bring the table to its steady state, not one held to the target. */
  settling: boolean;
  added: number;
  addSeconds: number;
  deleted: number;
  pruneSeconds: number;
  pruneCalls: number;
  size: TableSize;
}

export async function runPruneCycles(p: {
  client: ConveyorClient;
  store: HistoryStore;
  /** The history's span: completions in [from, to), RETENTION_DAYS days long. */
  from: number;
  to: number;
  rowsPerDay: number;
  batch: number;
  owners: readonly string[];
  cycles: number;
  settle: number;
  label: string;
}): Promise<{ before: TableSize; cycles: PruneCycle[] }> {
  const day = (p.to - p.from) / RETENTION_DAYS;
  const before = await p.store.size();
  const cycles: PruneCycle[] = [];
  for (let cycle = 1; cycle <= p.settle + p.cycles; cycle++) {
    const added = await buildHistory({
      ...p,
      rows: p.rowsPerDay,
      from: p.to + (cycle - 1) * day,
      to: p.to + cycle * day,
      seed: 1000 + cycle,
      label: `${p.label} prune cycle ${cycle}: add a day`,
    });
    // The oldest day is now past the retention: [from, from + cycle days) is older than now - 7 days.
    const clock = new ManualClock(new Date(p.from + cycle * day + RETENTION_DAYS * DAY_MS));
    const pruner = new Pruner({ engine: p.client.engine, clock, logger: silentLogger, retentionMs: RETENTION_DAYS * DAY_MS });
    const pruned = await untilDone(() => pruner.runOnce());
    cycles.push({ cycle, settling: cycle <= p.settle, added: added.rows, addSeconds: added.seconds, deleted: pruned.total, pruneSeconds: pruned.seconds, pruneCalls: pruned.calls, size: await p.store.size() });
  }
  return { before, cycles };
}
