import { taskMappers, type ClaimRowOf, type TaskRowOf } from '../shared/task-mappers.ts';
import { postgresCodec } from './postgres-codec.ts';

const postgresTasks = taskMappers(postgresCodec);

/** A `tasks` row as pg returns it with PG_TYPES: jsonb parsed, timestamptz as Date, integers as numbers. */
export type TaskRow = TaskRowOf<Date, unknown>;

export const taskFromRow = postgresTasks.task;

/** The columns a claim reads back (CLAIM_COLUMN_NAMES). */
export type ClaimRow = ClaimRowOf<Date, unknown>;

/** A claimed row as it comes (CLAIM_RETURNING): its timestamps as epoch milliseconds. */
export type ClaimWireRow = Omit<ClaimRow, 'run_at' | 'created_at'> & { run_at: number | Date; created_at: number | Date };

/** Claimed rows with their timestamps made Dates, in place: a claim reads back hundreds. */
export function claimRowsFromWire(rows: ClaimWireRow[]): ClaimRow[] {
  for (const row of rows) {
    row.run_at = new Date(row.run_at);
    row.created_at = new Date(row.created_at);
  }
  return rows as ClaimRow[];
}

/** A claimed task (throws RowDecodeError), or the same as a decode result that names the bad column. */
export const claimedTaskFromRow = postgresTasks.claimed;
export const decodeClaimedRow = postgresTasks.decodeClaimed;

/** Claim order: critical > high > normal > low, then due time, then creation (UUIDv7 ids sort by time). */
export function compareClaimOrder(a: Pick<TaskRow, 'priority_rank' | 'run_at' | 'id'>, b: Pick<TaskRow, 'priority_rank' | 'run_at' | 'id'>): number {
  return a.priority_rank - b.priority_rank || a.run_at.getTime() - b.run_at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
