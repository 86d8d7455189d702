import type { TaskStatus } from '../../core/task.ts';

/**
 * "status is one of these" as SQLite's partial indexes spell it (migration 0014), and so the
 * statements that must match them: ORs, not `status IN (...)`. SQLite evaluates a constant IN list by
 * building a small temporary index, and an INSERT or UPDATE builds it again for every row it
 * writes, for each partial-index predicate and CHECK naming `status`: about half of the instructions
 * of a claim and of a completion (callgrind, 5,000 no-op tasks; migration 0014 took them out of the
 * schema). SQLite matches a partial index by its terms, so this
 * text and the indexes' must stay the same, arm for arm and in this order. PostgreSQL is not
 * concerned: it keeps IN lists and proves its predicates either way.
 */
export function anyStatus(...statuses: TaskStatus[]): string {
  return `(${statuses.map((status) => `status = '${status}'`).join(' OR ')})`;
}

export const READY_STATUS = anyStatus('pending', 'scheduled', 'retrying');
export const FINISHED_STATUS = anyStatus('completed', 'failed', 'cancelled');
export const UNSUCCESSFUL_STATUS = anyStatus('failed', 'cancelled');
