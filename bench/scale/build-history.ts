/**
 * Builds a history of finished tasks through the bulk path: `ConveyorClient.enqueueMany` in large
 * batches, each batch then marked finished by one set-based statement (history-store.ts). The next
 * batch is inserted while the last one is being finished, as two clients of a database would.
 */
import cliProgress from 'cli-progress';
import type { ConveyorClient } from '../../src/client/conveyor-client.ts';
import { finishedRows, historyInputs, seeded } from './history-rows.ts';
import type { HistoryStore } from './history-store.ts';

export interface BuildResult {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
}

export async function buildHistory(p: {
  client: ConveyorClient;
  store: HistoryStore;
  rows: number;
  batch: number;
  owners: readonly string[];
  /** The completions fill [from, to) (epoch ms), in insertion order. */
  from: number;
  to: number;
  seed: number;
  label: string;
}): Promise<BuildResult> {
  const random = seeded(p.seed);
  const bar = new cliProgress.SingleBar(
    { format: `${p.label} {bar} {percentage}% | {value}/{total} rows | {rate} rows/s | eta {eta_formatted}`, hideCursor: true, noTTYOutput: true, notTTYSchedule: 10_000, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(p.rows, 0, { rate: '-' });
  const started = performance.now();
  const span = p.to - p.from;
  let finished = 0;
  let pending: Promise<void> = Promise.resolve();
  try {
    for (let done = 0; done < p.rows; ) {
      const count = Math.min(p.batch, p.rows - done);
      const inserted = await p.client.enqueueMany(historyInputs(count, p.owners, random));
      const from = p.from + (done / p.rows) * span;
      const rows = finishedRows(inserted.map((result) => result.task.id), from, from + (count / p.rows) * span, random);
      done += count;
      await pending;
      pending = p.store.finish(rows).then((changed) => {
        if (changed !== rows.length) throw new Error(`finished ${changed} of ${rows.length} tasks of a batch`);
        finished += changed;
        bar.update(finished, { rate: Math.round(finished / ((performance.now() - started) / 1000)).toLocaleString('en-US') });
      });
    }
    await pending;
  } finally {
    bar.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  return { rows: finished, seconds, rowsPerSecond: finished / seconds };
}
