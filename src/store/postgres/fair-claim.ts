import { type FairCandidate, pickFairShare } from '../../core/fair-share.ts';
import { type PostgresConnection, WORKER } from './postgres-connection.ts';
import { attemptStartedAtClaim, CLAIM_RETURNING, limitLockSpace, READY, type SqlContext } from './sql-parts.ts';
import type { ClaimWireRow } from './task-row.ts';

/**
 * The group fair shares are kept between: the owner, nobody's tasks as one group. Another key (a
 * tenant, a tag) is another expression here and in the index tasks_fair_ready_idx (migration 0011),
 * which must use exactly this expression.
 */
export const FAIR_GROUP = `coalesce(created_by, '00000000-0000-0000-0000-000000000000'::uuid)`;

/**
 * Fair sharing of slots between owners (core/fair-share.ts decides). A claim first asks whether
 * another owner's tasks wait (contended: two probes of tasks_fair_ready_idx); only then does it take
 * the fair path (claim):
 * each waiting owner's next tasks, the running tasks per owner, and the pick, in one transaction.
 */
export class FairClaim {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof fairClaimSql>;

  constructor(c: PostgresConnection) {
    this.#c = c;
    this.#sql = fairClaimSql(c.sql);
  }

  /** Whether due tasks of these types wait in a group other than the last group with ready tasks (then several groups wait). $1 now, $2 types. */
  async contended(now: Date, taskTypes: readonly string[]): Promise<boolean> {
    const { rows } = await this.#c.run<{ contended: boolean }>('taskClaim', this.#sql.contended, [now, taskTypes], WORKER);
    return rows[0]?.contended === true;
  }

  /**
   * The fair claim: in one transaction, lock the limited types (as the limited claim does; a type
   * another claimer is counting is left out), read each waiting owner's next `limit` tasks (locked,
   * skipping those other claimers hold), the running tasks per owner and the limited types' free slots,
   * pick (pickFairShare), and take the picked tasks. Rows locked but not picked are free at commit.
   */
  /** `values` as taskClaim's: now, types, limit, worker, lease expiry, how many start now. */
  claim(p: { values: unknown[]; limit: number; maxShare: number; limited: readonly string[] }): Promise<ClaimWireRow[]> {
    return this.#c.workerTransaction('taskClaim', async (client) => {
      const [now, taskTypes, , workerId, leaseExpiresAt, startNow] = p.values;
      let busy: string[] = [];
      if (p.limited.length > 0) busy = (await this.#c.run<{ busy: string[] | null }>('taskClaim', this.#sql.typeLimitLock, [p.limited], client)).rows[0]?.busy ?? [];
      const candidates = (await this.#c.run<{ id: string; grp: string; task_type: string; priority_rank: number; run_at: Date }>('taskClaim', this.#sql.candidates, [now, taskTypes, p.limit, busy], client)).rows;
      if (candidates.length === 0) return [];
      const counts = (await this.#c.run<{ grp: string | null; n: number; free: number | null }>('taskClaim', this.#sql.counts, [taskTypes], client)).rows;
      const running = new Map<string, number>();
      const typeFree = new Map<string, number>();
      for (const row of counts) {
        if (row.free === null) running.set(row.grp!, Number(row.n));
        else typeFree.set(row.grp!, Number(row.free));
      }
      const ids = pickFairShare({ candidates: candidates.map(toCandidate), running, limit: p.limit, maxShare: p.maxShare, typeFree });
      if (ids.length === 0) return [];
      return (await this.#c.run<ClaimWireRow>('taskClaim', this.#sql.take, [now, ids, workerId, leaseExpiresAt, startNow], client)).rows;
    });
  }
}

function toCandidate(row: { id: string; grp: string; task_type: string; priority_rank: number; run_at: Date }): FairCandidate {
  return { id: row.id, group: row.grp, taskType: row.task_type, priorityRank: row.priority_rank, runAtMs: row.run_at.getTime() };
}

export function fairClaimSql({ s, schema, statement }: SqlContext) {
  const due = `status IN (${READY}) AND run_at <= $1::timestamptz AND task_type = ANY($2::text[])`;
  return {
    // Whether a due task waits in a group below the last group with ready tasks: two probes of
    // tasks_fair_ready_idx. The last group is read backwards from the index's end, among the newest
    // tasks, so the entries a drain has just claimed (dead until vacuumed, at the front of its group)
    // are not walked; with one group the second probe stops at its first entry.
    // The last group is a scalar subquery (computed once, before the probe) rather than a join: a
    // plan made while the table was empty (worker connections keep generic plans) otherwise joined
    // the other way round and walked every ready task per claim. The probe is an ordered scalar
    // subquery, not EXISTS (which drops its ORDER BY), and both orders are the index's own: with sorts
    // ruled out on worker connections (WORKER_PLANNER_SETTINGS), only tasks_fair_ready_idx can serve
    // them. With statistics taken while no task waited, the planner otherwise walked tasks_ready_idx
    // over the whole backlog and sorted, twice: 20 ms per claim with 20,000 waiting, against 0.02 ms.
    contended: statement('task_claim_contended', `
      SELECT (
        SELECT ${FAIR_GROUP} FROM ${s}.tasks
        WHERE ${FAIR_GROUP} < (SELECT ${FAIR_GROUP} FROM ${s}.tasks WHERE status IN (${READY}) ORDER BY 1 DESC, priority_rank DESC, run_at DESC, id DESC LIMIT 1)
          AND ${due}
        ORDER BY 1 DESC, priority_rank DESC, run_at DESC, id DESC LIMIT 1) IS NOT NULL AS contended`),
    // The owners with ready tasks (a skip scan of tasks_fair_ready_idx: one probe per owner), then
    // each one's next $3 claimable tasks, locked, skipping rows other claimers hold. Left out as in
    // taskClaimLimited: open breakers (type or scope), paused types, limited types another claimer is
    // counting ($4) or at their limit. $1 now, $2 types, $3 limit, $4 busy limited types.
    candidates: statement('task_claim_fair_candidates', `
      WITH RECURSIVE owners(g) AS (
        (SELECT ${FAIR_GROUP} FROM ${s}.tasks WHERE status IN (${READY}) ORDER BY 1 LIMIT 1)
        UNION ALL
        SELECT (SELECT ${FAIR_GROUP} FROM ${s}.tasks WHERE status IN (${READY}) AND ${FAIR_GROUP} > owners.g ORDER BY 1 LIMIT 1)
        FROM owners WHERE owners.g IS NOT NULL),
      full_types AS (
        SELECT l.task_type FROM ${s}.task_type_limits l
        WHERE l.task_type = ANY($2::text[])
          AND l.max_running <= (SELECT count(*) FROM ${s}.tasks r WHERE r.status = 'running' AND r.task_type = l.task_type))
      SELECT c.id, owners.g::text AS grp, c.task_type, c.priority_rank, c.run_at
      FROM owners CROSS JOIN LATERAL (
        SELECT id, task_type, priority_rank, run_at FROM ${s}.tasks
        WHERE ${FAIR_GROUP} = owners.g AND ${due} AND task_type <> ALL($4::text[])
          AND task_type <> ALL(ARRAY(
            SELECT task_type FROM ${s}.circuit_breakers WHERE scope = '' AND state = 'open' AND reopens_at > $1::timestamptz
            UNION ALL SELECT task_type FROM ${s}.task_type_pauses
            UNION ALL SELECT task_type FROM full_types))
          AND (breaker_scope IS NULL OR (task_type || ' @ ' || breaker_scope) <> ALL(ARRAY(
            SELECT task_type || ' @ ' || scope FROM ${s}.circuit_breakers WHERE scope <> '' AND state = 'open' AND reopens_at > $1::timestamptz)))
        ORDER BY priority_rank, run_at, id
        LIMIT $3::int
        FOR UPDATE SKIP LOCKED) c
      WHERE owners.g IS NOT NULL`),
    // Running (claimed) tasks per owner, every worker counted (free null), and the free slots of the
    // limited types among $1 (grp the type).
    counts: statement('task_claim_fair_counts', `
      SELECT ${FAIR_GROUP}::text AS grp, count(*) AS n, NULL::int AS free FROM ${s}.tasks WHERE status = 'running' GROUP BY 1
      UNION ALL
      SELECT l.task_type, 0, l.max_running - (SELECT count(*) FROM ${s}.tasks r WHERE r.status = 'running' AND r.task_type = l.task_type)::int
      FROM ${s}.task_type_limits l WHERE l.task_type = ANY($1::text[])`),
    // Takes the picked tasks (locked by this transaction, so still ready); ranked.n is each one's
    // place in the pick's order, the first $5 starting at once (attempt_started, as in taskClaim).
    // $1 now, $2 ids, $3 worker, $4 lease expiry, $5 how many start now.
    take: statement('task_claim_fair_take', `
      UPDATE ${s}.tasks t
      SET status = 'running', current_attempt = t.current_attempt + 1, worker_id = $3::text, started_at = $1::timestamptz,
          lease_expires_at = $4::timestamptz, updated_at = $1::timestamptz, progress = NULL,
          ${attemptStartedAtClaim('$5::int')}
      FROM unnest($2::uuid[]) WITH ORDINALITY AS ranked(id, n)
      WHERE t.id = ranked.id AND t.status IN (${READY})
      RETURNING ${CLAIM_RETURNING}`),
    // As ClaimStore's: tries each limited type's lock, held to the end of the transaction.
    typeLimitLock: statement('task_claim_fair_limit_lock', `
      SELECT array_agg(t) FILTER (WHERE NOT pg_try_advisory_xact_lock(${limitLockSpace(schema)}, hashtext(t))) AS busy
      FROM unnest($1::text[]) AS t`),
  };
}
