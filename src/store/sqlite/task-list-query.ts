import { validationError } from '../../core/errors.ts';
import { uuidv7Floor } from '../../core/id.ts';
import { PRIORITY_RANK, type TaskStatus } from '../../core/task.ts';
import type { TaskListParams } from '../engine.ts';
import { assertListLimit } from '../shared/input-rules.ts';
import { LIST_TOTAL_CAP, listBranches } from '../shared/task-list-branches.ts';

export interface ListQuery {
  /** The page: newest first, one row more than asked so the caller knows whether another page follows. */
  pageSql: string;
  /** Counts at most LIST_TOTAL_CAP + 1 matches (@cap). */
  countSql: string;
  params: Record<string, string | number>;
  /** Filters without the cursor, for the total. */
  countParams: Record<string, string | number>;
}

/**
 * Builds the list query. Arrays are bound as one JSON text and expanded with json_each, so the SQL
 * has one shape per combination of filters (a handful) and the statement cache stays small. A
 * status or type filter is split into branches, each read from one index in id order
 * (shared/task-list-branches.ts).
 */
export function buildListQuery(p: TaskListParams): ListQuery {
  assertListLimit(p.limit);
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  const branches = listBranches(p);
  if (branches === null && p.status !== undefined && p.status.length > 0) {
    where.push('status IN (SELECT value FROM json_each(@statuses))');
    params.statuses = JSON.stringify(p.status);
  }
  if (branches === null && p.taskType !== undefined && p.taskType.length > 0) {
    where.push('task_type IN (SELECT value FROM json_each(@taskTypes))');
    params.taskTypes = JSON.stringify(p.taskType);
  }
  if (p.priority !== undefined && p.priority.length > 0) {
    where.push('priority_rank IN (SELECT value FROM json_each(@ranks))');
    params.ranks = JSON.stringify(p.priority.map((priority) => PRIORITY_RANK[priority]));
  }
  if (p.createdBy !== undefined) {
    where.push('created_by = @createdBy');
    params.createdBy = p.createdBy;
  }
  // The id bound lets the primary key serve the range in id order; created_at keeps it exact.
  if (p.createdAfter !== undefined) {
    where.push('created_at >= @createdAfter', 'id >= @idAfter');
    params.createdAfter = p.createdAfter.getTime();
    params.idAfter = uuidv7Floor(p.createdAfter.getTime());
  }
  if (p.createdBefore !== undefined) {
    where.push('created_at < @createdBefore', 'id < @idBefore');
    params.createdBefore = p.createdBefore.getTime();
    params.idBefore = uuidv7Floor(p.createdBefore.getTime() + 1);
  }
  if (p.idPrefix !== undefined && p.idPrefix !== '') {
    where.push(`id LIKE @idPrefix ESCAPE '\\'`);
    params.idPrefix = `${p.idPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  }
  branches?.forEach((branch, i) => {
    if (branch.taskType !== undefined) params[`type${i}`] = branch.taskType;
  });

  /** The rows matching every filter (and `extra`), newest first, at most `take` (a parameter). */
  const branchParts = (what: string, extra: string[], take: string) =>
    (branches ?? []).map((branch, i) => {
      const conditions = [branch.guard, ...(branch.taskType !== undefined ? [`task_type = @type${i}`] : []), ...where, ...extra];
      const index = historyIndexOf(branch.status, branch.taskType !== undefined, p.createdBy !== undefined);
      return `SELECT * FROM (SELECT ${what} FROM tasks${index ? ` INDEXED BY ${index}` : ''} ${whereClause(conditions)} ORDER BY ${SORTED_BRANCH.has(branch.status) ? '+id' : 'id'} DESC LIMIT ${take})`;
    });
  const select = (what: string, extra: string[], take: string) => {
    if (branches === null) return `SELECT ${what} FROM tasks ${whereClause([...where, ...extra])} ORDER BY id DESC LIMIT ${take}`;
    return `SELECT * FROM (${branchParts(what, extra, take).join(' UNION ALL ')}) ORDER BY id DESC LIMIT ${take}`;
  };

  const countParams = { ...params, cap: LIST_TOTAL_CAP + 1 };
  const extra: string[] = [];
  if (p.cursor !== undefined && p.cursor !== '') {
    extra.push('id < @cursor');
    params.cursor = decodeCursor(p.cursor);
  }
  params.limit = p.limit + 1;
  return {
    pageSql: select('*', extra, '@limit'),
    // The branches hold different statuses (or types), so their capped counts add up: no need to
    // merge and sort up to cap + 1 ids of every branch, as the page does.
    countSql:
      branches === null
        ? `SELECT COUNT(*) AS n FROM (${select('id', [], '@cap')})`
        : `SELECT min(@cap, ${branchParts('id', [], '@cap').map((part) => `(SELECT COUNT(*) FROM (${part}))`).join(' + ')}) AS n`,
    params,
    countParams,
  };
}

/**
 * Waiting and running tasks are read from the claim's and the rescuer's partial indexes and sorted
 * (shared/task-list-branches.ts). Without statistics (the product runs no ANALYZE) SQLite would
 * rather walk the primary key in id order, skipping every finished task, which is the whole history
 * when none waits; `+id` takes the order off the primary key, so the partial index is the plan.
 */
const SORTED_BRANCH: ReadonlySet<TaskStatus> = new Set(['pending', 'scheduled', 'retrying', 'running']);

/**
 * The index an owner's dead-letter or cancelled branch must read, named: without statistics SQLite
 * would rather walk the primary key in id order and read each row to test its owner (117 ms at
 * 1,000,000 tasks). A type's branches need no name: SQLite takes tasks_history_type_idx for them by
 * itself. It used to constrain that index's status column with the guard's status list, not its one
 * status, and sort every finished task of the type (0.4 to 0.9 s per read at 1,000,000), named or not;
 * the guard now names the one status first (STATUS_GUARD), and the walk stops after the page.
 */
function historyIndexOf(status: TaskStatus, byType: boolean, byOwner: boolean): string | null {
  if (!byType && byOwner && (status === 'failed' || status === 'cancelled')) return 'tasks_owner_unsuccessful_idx';
  return null;
}

function whereClause(conditions: string[]): string {
  return conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
}

/** The cursor is the last id of a page; opaque to clients so that its form can change. */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (id === '' || encodeCursor(id) !== cursor) throw validationError('cursor', 'is not a cursor this server returned');
  return id;
}
