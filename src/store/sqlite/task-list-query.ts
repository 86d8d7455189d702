import { validationError } from '../../core/errors.ts';
import { PRIORITY_RANK } from '../../core/task.ts';
import type { TaskListParams } from '../engine.ts';
import { assertListLimit } from '../shared/input-rules.ts';

export interface ListQuery {
  /** The page: newest first, one row more than asked so the caller knows whether another page follows. */
  pageSql: string;
  countSql: string;
  params: Record<string, string | number>;
  /** Filters without the cursor, for the total. */
  countParams: Record<string, string | number>;
}

/**
 * Builds the list query. Arrays are bound as one JSON text and expanded with json_each, so the SQL
 * has one shape per combination of filters (a handful) and the statement cache stays small.
 */
export function buildListQuery(p: TaskListParams): ListQuery {
  assertListLimit(p.limit);
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  if (p.status !== undefined && p.status.length > 0) {
    where.push('status IN (SELECT value FROM json_each(@statuses))');
    params.statuses = JSON.stringify(p.status);
  }
  if (p.taskType !== undefined && p.taskType.length > 0) {
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
  if (p.createdAfter !== undefined) {
    where.push('created_at >= @createdAfter');
    params.createdAfter = p.createdAfter.getTime();
  }
  if (p.createdBefore !== undefined) {
    where.push('created_at < @createdBefore');
    params.createdBefore = p.createdBefore.getTime();
  }
  if (p.idPrefix !== undefined && p.idPrefix !== '') {
    where.push(`id LIKE @idPrefix ESCAPE '\\'`);
    params.idPrefix = `${p.idPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  }
  const countWhere = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const countParams = { ...params };
  if (p.cursor !== undefined && p.cursor !== '') {
    where.push('id < @cursor');
    params.cursor = decodeCursor(p.cursor);
  }
  params.limit = p.limit + 1;
  const pageWhere = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return {
    pageSql: `SELECT * FROM tasks ${pageWhere} ORDER BY id DESC LIMIT @limit`,
    countSql: `SELECT COUNT(*) AS n FROM tasks ${countWhere}`,
    params,
    countParams,
  };
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
