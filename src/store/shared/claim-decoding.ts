import type { ClaimedTask } from '../../core/task.ts';
import type { Engine } from '../engine.ts';
import type { ClaimDecoded } from './task-mappers.ts';

/**
 * The claimed rows decoded one by one. A row whose stored data cannot be decoded would fail the same
 * way on every claim, so it is failed for good (fenced on the lease just taken) with an error naming
 * the column, and the rest of the batch goes to the worker as usual.
 */
export async function decodeClaimBatch<R>(
  rows: readonly R[],
  decode: (row: R) => ClaimDecoded,
  p: { workerId: string; now: Date; taskFail: Engine['taskFail'] },
): Promise<ClaimedTask[]> {
  const tasks: ClaimedTask[] = [];
  for (const row of rows) {
    const decoded = decode(row);
    if (decoded.ok) {
      tasks.push(decoded.task);
      continue;
    }
    try {
      await p.taskFail({ lease: { id: decoded.id, attempt: decoded.attempt, workerId: p.workerId }, error: decoded.error.message, permanent: true, now: p.now });
    } catch {
      // The lease is ours and nobody runs the task: if this write fails, the lease runs out, the rescue
      // hands the task back, and the next claim fails it again. The good rows are not held up for it.
    }
  }
  return tasks;
}
