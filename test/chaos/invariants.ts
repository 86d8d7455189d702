import type { RawDatabase } from './raw-database.ts';

/**
 * The invariants of issue 14, checked in SQL on the database itself once a scenario has settled:
 *
 *   every-task-final        every task completed, dead-lettered or cancelled: nothing left behind
 *   no-overlapping-attempts no two attempts of a task overlap in time (the attempts history, plus the
 *                           attempt the row itself holds while running or once completed)
 *   no-innocent-dead-letter only poisons end in the dead letter
 *   no-running-without-lease nothing is `running` whose lease has run out
 *   poisons-dead-lettered   each poison ends in the dead letter with an error that says why
 */
export interface Violation {
  invariant: string;
  /** The tasks (or processes) concerned; at most MAX_IDS listed, `count` has them all. */
  ids: string[];
  count: number;
  detail: string;
}

export interface InvariantReport {
  /** How many invariants were checked (each once, over every task). */
  checked: number;
  tasks: number;
  violations: Violation[];
  /** How each poison ended, e.g. "process.exit(3): failed after 3 attempts, 2 rescues: lease expired ...". */
  poisonOutcomes: string[];
}

export interface PoisonExpectation {
  id: string;
  label: string;
  /** Also acceptable: completed (an output with a NUL character may be stored, escaped). */
  mayComplete?: boolean;
}

const MAX_IDS = 20;

export function violation(invariant: string, ids: string[], detail: string): Violation {
  return { invariant, ids: ids.slice(0, MAX_IDS), count: ids.length, detail };
}

interface TaskRow {
  id: string;
  task_type: string;
  status: string;
  last_error: string | null;
  rescue_count: number;
  current_attempt: number;
}

interface OverlapRow {
  id: string;
  attempt: number;
}

/** Attempt spans in milliseconds; SQLite stores row times as integer ms and history times as ISO text. */
const SQLITE_OVERLAPS = `
WITH spans AS (
  SELECT t.id AS id, json_extract(a.value, '$.attempt') AS attempt,
         CAST(round((julianday(json_extract(a.value, '$.started_at')) - 2440587.5) * 86400000.0) AS INTEGER) AS s,
         CAST(round((julianday(json_extract(a.value, '$.finished_at')) - 2440587.5) * 86400000.0) AS INTEGER) AS f
    FROM tasks t, json_each(CASE WHEN json_valid(t.attempts) THEN t.attempts ELSE '[]' END) a
  UNION ALL
  SELECT id, current_attempt, started_at, CASE WHEN status = 'completed' THEN completed_at END
    FROM tasks
   WHERE started_at IS NOT NULL AND json_valid(attempts)
     AND (status = 'running' OR (status = 'completed' AND coalesce(json_extract(attempts, '$[#-1].outcome'), '') <> 'completed'))
), ordered AS (
  SELECT id, attempt, s, max(f) OVER (PARTITION BY id ORDER BY s, attempt ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
    FROM spans WHERE s IS NOT NULL
)
SELECT id, attempt FROM ordered WHERE prev_end > s`;

const POSTGRES_OVERLAPS = `
WITH spans AS (
  SELECT t.id::text AS id, (a->>'attempt')::int AS attempt, (a->>'started_at')::timestamptz AS s, (a->>'finished_at')::timestamptz AS f
    FROM tasks t CROSS JOIN LATERAL jsonb_array_elements(t.attempts) a
  UNION ALL
  SELECT id::text, current_attempt, started_at, CASE WHEN status = 'completed' THEN completed_at END
    FROM tasks
   WHERE started_at IS NOT NULL
     AND (status = 'running' OR (status = 'completed' AND coalesce(attempts->-1->>'outcome', '') <> 'completed'))
), ordered AS (
  SELECT id, attempt, s, max(f) OVER (PARTITION BY id ORDER BY s, attempt ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
    FROM spans WHERE s IS NOT NULL
)
SELECT id, attempt FROM ordered WHERE prev_end > s`;

const STUCK_SQL = {
  sqlite: `SELECT id FROM tasks WHERE status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < ?)`,
  postgres: `SELECT id::text AS id FROM tasks WHERE status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < $1::timestamptz)`,
};

const TASKS_SQL = {
  sqlite: `SELECT id, task_type, status, last_error, rescue_count, current_attempt FROM tasks`,
  postgres: `SELECT id::text AS id, task_type, status, last_error, rescue_count, current_attempt FROM tasks`,
};

/** Checks every invariant over every task of the database; `poisons` are the tasks allowed to fail. */
export async function checkInvariants(db: RawDatabase, poisons: PoisonExpectation[], now = new Date()): Promise<InvariantReport> {
  const violations: Violation[] = [];
  const tasks = await db.query<TaskRow>(TASKS_SQL[db.kind]);
  const poisonIds = new Map(poisons.map((poison) => [poison.id, poison]));
  const summary = (rows: TaskRow[]) => [...new Set(rows.map((row) => `${row.task_type}:${row.status}`))].join(', ');

  const unfinished = tasks.filter((task) => !['completed', 'failed', 'cancelled'].includes(task.status));
  if (unfinished.length > 0) violations.push(violation('every-task-final', unfinished.map((t) => t.id), `${unfinished.length} tasks not finished (${summary(unfinished)})`));

  const overlaps = await db.query<OverlapRow>(db.kind === 'sqlite' ? SQLITE_OVERLAPS : POSTGRES_OVERLAPS);
  if (overlaps.length > 0) {
    violations.push(violation('no-overlapping-attempts', [...new Set(overlaps.map((o) => o.id))], `${overlaps.length} attempts started before an earlier attempt of the same task had ended`));
  }

  const innocentDead = tasks.filter((task) => task.status === 'failed' && !poisonIds.has(task.id));
  if (innocentDead.length > 0) {
    const errors = [...new Set(innocentDead.map((t) => (t.last_error ?? '').replace(/worker \S+/, 'worker …').slice(0, 90)))].slice(0, 3);
    violations.push(violation('no-innocent-dead-letter', innocentDead.map((t) => t.id), `${innocentDead.length} innocent tasks in the dead letter (max rescue_count ${Math.max(...innocentDead.map((t) => t.rescue_count))}; errors: ${errors.join(' | ')})`));
  }

  const stuck = await db.query<{ id: string }>(STUCK_SQL[db.kind], [db.kind === 'sqlite' ? now.getTime() : now.toISOString()]);
  if (stuck.length > 0) violations.push(violation('no-running-without-lease', stuck.map((s) => s.id), `${stuck.length} tasks running with an expired lease`));

  const byId = new Map(tasks.map((task) => [task.id, task]));
  const poisonOutcomes: string[] = [];
  for (const poison of poisons) {
    const task = byId.get(poison.id);
    poisonOutcomes.push(`${poison.label}: ${task ? `${task.status} after ${task.current_attempt} attempts, ${task.rescue_count} rescues: ${JSON.stringify((task.last_error ?? '').replace(/worker \S+/, 'worker …').slice(0, 100))}` : 'missing'}`);
    const clearError = task?.status === 'failed' && (task.last_error ?? '').trim() !== '';
    if (clearError || (poison.mayComplete && task?.status === 'completed')) continue;
    const state = task ? `${task.status}, attempt ${task.current_attempt}, rescues ${task.rescue_count}, error ${JSON.stringify((task.last_error ?? '').slice(0, 80))}` : 'missing';
    violations.push(violation('poisons-dead-lettered', [poison.id], `${poison.label}: ${state}`));
  }
  return { checked: 5, tasks: tasks.length, violations, poisonOutcomes };
}
