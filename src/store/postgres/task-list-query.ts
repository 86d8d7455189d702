import { validationError } from '../../core/errors.ts';
import { isUuid } from '../../core/id.ts';
import { PRIORITY_RANK } from '../../core/task.ts';
import type { TaskListParams } from '../engine.ts';
import { assertListLimit } from '../shared/input-rules.ts';

export interface TaskListQuery {
  /** The page size; the query asks for one row more, to know whether another page follows. */
  limit: number;
  page: { text: string; values: unknown[] };
  /** The same filters without the cursor, when a total was asked for. */
  count: { text: string; values: unknown[] } | null;
}

/**
 * The SQL of one taskList page: newest first by id (UUIDv7, so by creation), the cursor being the
 * last id of the previous page. Null when the filters can match nothing (an owner that is no UUID).
 * Empty filter arrays mean "no filter".
 */
export function taskListQuery(p: TaskListParams, schema: string, columns: string): TaskListQuery | null {
  assertListLimit(p.limit);
  const limit = p.limit;
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (condition: (param: string) => string, value: unknown) => {
    values.push(value);
    where.push(condition(`$${values.length}`));
  };
  if (p.status?.length) add((x) => `status = ANY(${x}::text[])`, p.status);
  if (p.taskType?.length) add((x) => `task_type = ANY(${x}::text[])`, p.taskType);
  if (p.priority?.length) add((x) => `priority_rank = ANY(${x}::smallint[])`, p.priority.map((priority) => PRIORITY_RANK[priority]));
  if (p.createdBy !== undefined) {
    if (!isUuid(p.createdBy)) return null;
    add((x) => `created_by = ${x}::uuid`, p.createdBy);
  }
  if (p.createdAfter) add((x) => `created_at >= ${x}::timestamptz`, p.createdAfter);
  if (p.createdBefore) add((x) => `created_at < ${x}::timestamptz`, p.createdBefore);
  if (p.idPrefix) add((x) => `id::text LIKE ${x}::text`, `${escapeLike(p.idPrefix.toLowerCase())}%`);
  const count = p.withTotal ? { text: `SELECT count(*) AS count FROM ${schema}.tasks ${whereClause(where)}`, values: [...values] } : null;
  if (p.cursor !== undefined) add((x) => `id < ${x}::uuid`, decodeCursor(p.cursor));
  values.push(limit + 1);
  return {
    limit,
    page: { text: `SELECT ${columns} FROM ${schema}.tasks ${whereClause(where)} ORDER BY id DESC LIMIT $${values.length}`, values },
    count,
  };
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
