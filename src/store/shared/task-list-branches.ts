import { validationError } from '../../core/errors.ts';
import { TASK_STATUSES, type TaskStatus } from '../../core/task.ts';
import { FINISHED_STATUS, READY_STATUS, UNSUCCESSFUL_STATUS } from './status-terms.ts';

/**
 * How a filtered task list is split so that every part reads one index in id order and stops after
 * the page, whatever the size of the history (issue 16).
 *
 * A filter by status or type becomes one branch per status (and per type): `status = ANY(...)` over
 * several values, or `task_type = ANY(...)`, cannot walk an index in id order, and sorting every
 * match costs as much as the history. Each branch is `... ORDER BY id DESC LIMIT n`; the caller
 * merges them with UNION ALL and takes the first n again.
 *
 * On SQLite each branch repeats, term for term, the predicate of the partial indexes that hold its
 * status, because SQLite matches partial-index predicates by their terms. PostgreSQL proves them from
 * `status = '<it>'` alone, and the repeated terms would only skew its row estimates (it multiplies them).
 * The finished statuses are served by indexes on finished rows only, so a later split of the tasks
 * table into a narrow hot table and an append-only history (issue 17) keeps the same indexes on the
 * history side; waiting and running tasks are read from the claim's and the rescuer's indexes,
 * sorted (their number is the backlog, not the history).
 */

/**
 * The SQL guard of one status's branch: the status itself, then every partial-index predicate that
 * holds it. The status comes first: SQLite (3.53) constrains an index's status column with the first
 * term on it that it finds, and given the list first it looked up tasks_history_type_idx by
 * (task_type, each finished status) and sorted every finished task of the type by id (0.4 to 0.9 s per
 * read of a common type at 1,000,000 tasks); with the one status first it walks (task_type, status,
 * id) newest first and stops after the page (under 1 ms), or counts up to the cap from the index alone.
 */
export const STATUS_GUARD: Readonly<Record<TaskStatus, string>> = {
  pending: `status = 'pending' AND ${READY_STATUS}`,
  scheduled: `status = 'scheduled' AND ${READY_STATUS}`,
  retrying: `status = 'retrying' AND ${READY_STATUS}`,
  running: `status = 'running'`,
  completed: `status = 'completed' AND ${FINISHED_STATUS}`,
  failed: `status = 'failed' AND ${FINISHED_STATUS} AND ${UNSUCCESSFUL_STATUS}`,
  cancelled: `status = 'cancelled' AND ${FINISHED_STATUS} AND ${UNSUCCESSFUL_STATUS}`,
};

/**
 * Completed tasks of any type: they are the bulk of the history, so the primary key, walked newest
 * first, finds a page of them at once; an index of their own would cost every completion. The unary
 * plus keeps SQLite off the type index, which would serve the filter but not the order.
 */
const COMPLETED_ANY_TYPE_GUARD = `+status = 'completed'`;

/** More branches than this and the list falls back to one statement (still correct, no longer index-ordered). */
export const MAX_LIST_BRANCHES = 64;

/** The largest total a list counts exactly; beyond it the total is reported as "at least this many". */
export const LIST_TOTAL_CAP = 10_000;

export interface ListBranch {
  /** SQL text with no parameters: a fixed guard built from the known statuses (SQLite's form; see STATUS_GUARD). */
  guard: string;
  /** The branch's one status: PostgreSQL proves the partial indexes' predicates from `status = '<it>'` alone. */
  status: TaskStatus;
  /** One task type, bound by the caller, or undefined for "any type". */
  taskType?: string;
}

/**
 * The branches of a list, or null when no status or type filter is given (then one statement over
 * the primary key, the owner index or the id range serves it). Unknown statuses are refused.
 */
export function listBranches(p: { status?: readonly TaskStatus[]; taskType?: readonly string[] }): ListBranch[] | null {
  const statuses = p.status?.length ? [...new Set(p.status)] : null;
  const types = p.taskType?.length ? [...new Set(p.taskType)] : null;
  if (statuses === null && types === null) return null;
  for (const status of statuses ?? []) {
    if (!TASK_STATUSES.includes(status)) throw validationError('status', `must be one of ${TASK_STATUSES.join(', ')}`);
  }
  const chosen = statuses ?? TASK_STATUSES;
  const branches: ListBranch[] =
    types === null
      ? chosen.map((status) => ({ status, guard: status === 'completed' ? COMPLETED_ANY_TYPE_GUARD : STATUS_GUARD[status] }))
      : chosen.flatMap((status) => types.map((taskType) => ({ status, guard: STATUS_GUARD[status], taskType })));
  return branches.length <= MAX_LIST_BRANCHES ? branches : null;
}

/** A capped count: at most cap + 1 rows are counted, so `exact` is false when there are more than cap. */
export function cappedTotal(counted: number, cap = LIST_TOTAL_CAP): { total: number; totalIsExact: boolean } {
  return counted > cap ? { total: cap, totalIsExact: false } : { total: counted, totalIsExact: true };
}
