import { type FairCandidate, pickFairShare } from '../../core/fair-share.ts';
import { ATTEMPT_STARTED_AT_CLAIM_SQL, CLAIM_COLUMNS, FAIR_GROUP, READY, type ReadySources } from './sql-parts.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import type { ClaimRow } from './task-row.ts';

/**
 * Fair sharing of slots between owners (core/fair-share.ts decides). Called inside the claim's write
 * transaction (the single writer makes it atomic): first which groups have ready tasks (readyGroups:
 * the ends of tasks_fair_ready_idx, which every claim reads) and whether another owner's tasks
 * wait (contended: one more probe); only then the fair path (claim): each waiting owner's next tasks,
 * the running tasks per owner, the pick, and the update.
 */
export class FairClaim {
  readonly #c: SqliteConnection;
  readonly #sql = new Map<number, ReturnType<typeof fairClaimSql>>();

  constructor(c: SqliteConnection) {
    this.#c = c;
  }

  #statements(typeCount: number): ReturnType<typeof fairClaimSql> {
    let sql = this.#sql.get(typeCount);
    if (sql === undefined) {
      sql = fairClaimSql(typeCount);
      this.#sql.set(typeCount, sql);
    }
    return sql;
  }

  /**
   * The last group with ready tasks, and which claim-order sources hold them (sql-parts.ts
   * READY_SOURCES), or null when no task is ready. Nobody's group '' sorts first, so when it is also
   * the last no owner waits; only otherwise is the first group read.
   */
  readyGroups(): { last: string; sources: ReadySources } | null {
    const last = (this.#c.prepare(LAST_GROUP).get() as { g: string } | undefined)?.g;
    if (last === undefined) return null;
    if (last === '') return { last, sources: 'nobodys' };
    const first = (this.#c.prepare(FIRST_GROUP).get() as { g: string }).g;
    return { last, sources: first === '' ? 'both' : 'owned' };
  }

  /** Whether due tasks of these types wait in a group below `last`, the last group with ready tasks (then several groups wait; params: now, t0...). */
  contended(typeCount: number, params: Record<string, string | number>, last: string): boolean {
    return (this.#c.prepare(this.#statements(typeCount).below).get({ ...pick(params, typeCount), last }) as { contended: number }).contended === 1;
  }

  /** The fair claim (params as taskClaim's: now, t0..., limit, startNow, workerId, leaseExpiresAt). */
  claim(typeCount: number, params: Record<string, string | number>, maxShare: number): ClaimRow[] {
    const sql = this.#statements(typeCount);
    const due = pick(params, typeCount);
    const limit = Number(params.limit);
    const candidates: FairCandidate[] = [];
    const nextTasks = this.#c.prepare(sql.nextTasks);
    const nextOwner = this.#c.prepare(NEXT_GROUP);
    // The owners with ready tasks, one probe of tasks_fair_ready_idx each (a skip scan).
    let owner = (this.#c.prepare(FIRST_GROUP).get() as { g: string } | undefined)?.g;
    while (owner !== undefined) {
      for (const row of nextTasks.all({ ...due, g: owner, limit }) as { id: string; task_type: string; priority_rank: number; run_at: number }[]) {
        candidates.push({ id: row.id, group: owner, taskType: row.task_type, priorityRank: row.priority_rank, runAtMs: row.run_at });
      }
      owner = (nextOwner.get({ after: owner }) as { g: string } | undefined)?.g;
    }
    if (candidates.length === 0) return [];
    const running = new Map<string, number>();
    for (const row of this.#c.prepare(sql.running).all() as { g: string; n: number }[]) running.set(row.g, row.n);
    const typeFree = new Map<string, number>();
    for (const row of this.#c.prepare(sql.typeFree).all(typeParams(params, typeCount)) as { task_type: string; free: number }[]) typeFree.set(row.task_type, row.free);
    const ids = pickFairShare({ candidates, running, limit, maxShare, typeFree });
    if (ids.length === 0) return [];
    return this.#c.rows<ClaimRow>(sql.take, { now: params.now!, workerId: params.workerId!, leaseExpiresAt: params.leaseExpiresAt!, startNow: params.startNow!, ids: JSON.stringify(ids) });
  }
}

function typeParams(params: Record<string, string | number>, typeCount: number): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (let i = 0; i < typeCount; i += 1) out[`t${i}`] = params[`t${i}`]!;
  return out;
}

function pick(params: Record<string, string | number>, typeCount: number): Record<string, string | number> {
  return { ...typeParams(params, typeCount), now: params.now! };
}

// The ends of tasks_fair_ready_idx, and the group after @after: each one probe.
const LAST_GROUP = `SELECT ${FAIR_GROUP} AS g FROM tasks WHERE ${READY} ORDER BY 1 DESC, priority_rank DESC, run_at DESC, id DESC LIMIT 1`;
const FIRST_GROUP = `SELECT ${FAIR_GROUP} AS g FROM tasks WHERE ${READY} ORDER BY 1 LIMIT 1`;
const NEXT_GROUP = `SELECT ${FAIR_GROUP} AS g FROM tasks WHERE ${READY} AND ${FAIR_GROUP} > @after ORDER BY 1 LIMIT 1`;

function fairClaimSql(typeCount: number) {
  const types = Array.from({ length: typeCount }, (_, i) => `@t${i}`).join(', ');
  return {
    // Whether a due task waits below the last group with ready tasks (LAST_GROUP): with one group
    // this probe of tasks_fair_ready_idx stops at its first entry.
    below: `SELECT EXISTS (SELECT 1 FROM tasks WHERE ${READY} AND ${FAIR_GROUP} < @last AND run_at <= @now AND task_type IN (${types})) AS contended`,
    // One owner's next claimable tasks. Left out as in the limited claim: open breakers (type or
    // scope), paused types, limited types at their limit.
    nextTasks: `
      SELECT id, task_type, priority_rank, run_at FROM tasks
       WHERE ${READY} AND ${FAIR_GROUP} = @g AND run_at <= @now AND task_type IN (${types})
         AND task_type NOT IN (SELECT task_type FROM circuit_breakers WHERE scope = '' AND state = 'open' AND reopens_at > @now
                               UNION ALL SELECT task_type FROM task_type_pauses
                               UNION ALL SELECT l.task_type FROM task_type_limits l
                                          WHERE l.max_running <= (SELECT COUNT(*) FROM tasks r WHERE r.status = 'running' AND r.task_type = l.task_type))
         AND (breaker_scope IS NULL OR (task_type || ' @ ' || breaker_scope) NOT IN (
               SELECT task_type || ' @ ' || scope FROM circuit_breakers WHERE scope <> '' AND state = 'open' AND reopens_at > @now))
       ORDER BY priority_rank, run_at, id
       LIMIT @limit`,
    // Running (claimed) tasks per owner, every worker counted.
    running: `SELECT ${FAIR_GROUP} AS g, COUNT(*) AS n FROM tasks WHERE status = 'running' GROUP BY 1`,
    typeFree: `SELECT l.task_type, l.max_running - (SELECT COUNT(*) FROM tasks r WHERE r.status = 'running' AND r.task_type = l.task_type) AS free
                 FROM task_type_limits l WHERE l.task_type IN (${types})`,
    // Takes the picked tasks; ranked.n is each one's place in the pick's order (from 1), the first
    // @startNow starting at once (attempt_started, as in taskClaim).
    take: `
      WITH ranked AS (SELECT value AS id, key + 1 AS n FROM json_each(@ids))
      UPDATE tasks
         SET status = 'running', current_attempt = current_attempt + 1, worker_id = @workerId, started_at = @now,
             lease_expires_at = @leaseExpiresAt, updated_at = @now, progress = NULL,
             ${ATTEMPT_STARTED_AT_CLAIM_SQL}
        FROM ranked WHERE tasks.id = ranked.id AND ${READY}
      RETURNING ${CLAIM_COLUMNS.split(', ').map((column) => `tasks.${column}`).join(', ')}`,
  };
}
