/**
 * Brings the product's derived data up to date after a bulk build: the leader's maintenance rollup
 * (task_rollups, task_counts, task_rollup_state) rolls at most an hour per call, so it is called
 * until it has nothing left; then the stats (GET /tasks/stats's source) are checked against the rows.
 */
import type { ConveyorClient } from '../../src/client/conveyor-client.ts';
import { systemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Rollup } from '../../src/worker/maintenance/rollup.ts';
import type { HistoryStore } from './history-store.ts';
import { untilDone } from './until-done.ts';

export interface CatchUpResult {
  calls: number;
  minutes: number;
  seconds: number;
  /** Empty when the stats agree with the rows; else one line per status that differs. */
  mismatches: string[];
}

export async function catchUpRollups(client: ConveyorClient, store: HistoryStore): Promise<CatchUpResult> {
  const rollup = new Rollup({ engine: client.engine, clock: systemClock, logger: silentLogger });
  const { calls, total: minutes, seconds } = await untilDone(() => rollup.runOnce());
  const stats = await client.stats();
  const rows = await store.countsByStatus();
  const mismatches: string[] = [];
  for (const status of new Set([...Object.keys(rows), ...Object.keys(stats.byStatus)])) {
    const stored = rows[status] ?? 0;
    const counted = stats.byStatus[status as keyof typeof stats.byStatus] ?? 0;
    if (stored !== counted) mismatches.push(`${status}: ${counted} in the stats, ${stored} rows`);
  }
  return { calls, minutes, seconds, mismatches };
}
