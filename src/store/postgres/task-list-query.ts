import { validationError } from '../../core/errors.ts';
import { isUuid, uuidv7Floor } from '../../core/id.ts';
import { PRIORITY_RANK } from '../../core/task.ts';
import type { TaskListParams } from '../engine.ts';
import { assertListLimit } from '../shared/input-rules.ts';
import { LIST_TOTAL_CAP, listBranches } from '../shared/task-list-branches.ts';

export interface TaskListQuery {
  /** The page size; the query asks for one row more, to know whether another page follows. */
  limit: number;
  page: { text: string; values: unknown[] };
  /** The same filters without the cursor, counting at most LIST_TOTAL_CAP + 1 matches, when a total was asked for. */
  count: { text: string; values: unknown[] } | null;
}

/**
 * The SQL of one taskList page: newest first by id (UUIDv7, so by creation), the cursor being the
 * last id of the previous page. Null when the filters can match nothing (an owner that is no UUID).
 * Empty filter arrays mean "no filter". A status or type filter is split into branches, each read
 * from one index in id order (shared/task-list-branches.ts).
 */
export function taskListQuery(p: TaskListParams, schema: string, columns: string): TaskListQuery | null {
  assertListLimit(p.limit);
  const limit = p.limit;
  const where: string[] = [];
  const values: unknown[] = [];
  const bind = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const add = (condition: (param: string) => string, value: unknown) => where.push(condition(bind(value)));
  const branches = listBranches(p);
  if (branches === null) {
    if (p.status?.length) add((x) => `status = ANY(${x}::text[])`, p.status);
    if (p.taskType?.length) add((x) => `task_type = ANY(${x}::text[])`, p.taskType);
  }
  if (p.priority?.length) add((x) => `priority_rank = ANY(${x}::smallint[])`, p.priority.map((priority) => PRIORITY_RANK[priority]));
  if (p.createdBy !== undefined) {
    if (!isUuid(p.createdBy)) return null;
    add((x) => `created_by = ${x}::uuid`, p.createdBy);
  }
  // The id bound lets the primary key serve the range in id order; created_at keeps it exact.
  if (p.createdAfter) {
    add((x) => `created_at >= ${x}::timestamptz`, p.createdAfter);
    add((x) => `id >= ${x}::uuid`, uuidv7Floor(p.createdAfter.getTime()));
  }
  if (p.createdBefore) {
    add((x) => `created_at < ${x}::timestamptz`, p.createdBefore);
    add((x) => `id < ${x}::uuid`, uuidv7Floor(p.createdBefore.getTime() + 1));
  }
  if (p.idPrefix) add((x) => `id::text LIKE ${x}::text`, `${escapeLike(p.idPrefix.toLowerCase())}%`);
  const typeParams = branches?.map((branch) => (branch.taskType === undefined ? null : bind(branch.taskType))) ?? [];

  /** The rows matching every filter (and `extra`), newest first, at most `take` (a parameter). */
  const branchParts = (what: string, extra: string[], take: string) =>
    (branches ?? []).map((branch, i) => {
      const conditions = [`status = '${branch.status}'`, ...(typeParams[i] ? [`task_type = ${typeParams[i]}::text`] : []), ...where, ...extra];
      return `(SELECT ${what} FROM ${schema}.tasks ${whereClause(conditions)} ORDER BY id DESC LIMIT ${take})`;
    });
  const select = (what: string, extra: string[], take: string) => {
    if (branches === null) return `SELECT ${what} FROM ${schema}.tasks ${whereClause([...where, ...extra])} ORDER BY id DESC LIMIT ${take}`;
    return `SELECT * FROM (${branchParts(what, extra, take).join(' UNION ALL ')}) AS branches ORDER BY id DESC LIMIT ${take}`;
  };

  let count: TaskListQuery['count'] = null;
  if (p.withTotal) {
    const countValues = [...values, LIST_TOTAL_CAP + 1];
    const cap = `$${countValues.length}`;
    // The branches hold different statuses (or types), so their capped counts add up: no need to
    // merge and sort up to cap + 1 ids of every branch, as the page does.
    const text =
      branches === null
        ? `SELECT count(*)::integer AS count FROM (${select('id', [], cap)}) AS matches`
        : `SELECT least(${cap}::bigint, ${branchParts('id', [], cap).map((part) => `(SELECT count(*) FROM ${part} AS branch)`).join(' + ')})::integer AS count`;
    count = { text, values: countValues };
  }
  const extra = p.cursor !== undefined ? [`id < ${bind(decodeCursor(p.cursor))}::uuid`] : [];
  const take = bind(limit + 1);
  return { limit, page: { text: select(columns, extra, take), values }, count };
}

function whereClause(conditions: string[]): string {
  return conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** Cursors are opaque to clients: the last id of the page, base64url-encoded. */
export function encodeCursor(id: string): string {
  return Buffer.from(id).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isUuid(id)) throw validationError('cursor', 'is not a cursor from a previous page');
  return id.toLowerCase();
}
