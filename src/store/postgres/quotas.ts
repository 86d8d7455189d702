import { uuidv7Floor, uuidv7Time } from '../../core/id.ts';
import type { OwnerUsage } from '../../core/quota.ts';
import { FAIR_GROUP } from './fair-claim.ts';
import type { PostgresConnection } from './postgres-connection.ts';
import { READY, type SqlContext } from './sql-parts.ts';

/** What quotas count per owner: recent and waiting tasks, stored payload bytes, email recipients. */
export class QuotaStore {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof quotasSql>;

  constructor(c: PostgresConnection) {
    this.#c = c;
    this.#sql = quotasSql(c.sql);
  }

  async ownerUsage(p: { ownerId: string; since: Date }): Promise<OwnerUsage> {
    this.#c.assertOpen();
    const { rows } = await this.#c.run<{ created_in_window: number; oldest_id: string | null; waiting: number; payload_bytes: number }>(
      'ownerUsage', this.#sql.ownerUsage, [p.ownerId, uuidv7Floor(p.since.getTime())],
    );
    const row = rows[0]!;
    return {
      createdInWindow: Number(row.created_in_window),
      oldestInWindow: row.oldest_id === null ? null : uuidv7Time(row.oldest_id),
      waiting: Number(row.waiting),
      payloadBytes: Number(row.payload_bytes),
    };
  }

  async emailRecipientsCount(p: { ownerId: string; entries: readonly { taskId: string; recipients: number }[]; since: Date; cap: number; now: Date }): Promise<{ counted: boolean; used: number }> {
    this.#c.assertOpen();
    return this.#c.transaction('emailRecipientsCount', async (client) => {
      // One owner's counts are serialised across every process, so two senders cannot both pass the cap.
      await this.#c.run('emailRecipientsCount', this.#sql.lockOwner, [p.ownerId], client);
      await this.#c.run('emailRecipientsCount', this.#sql.forgetBefore, [p.ownerId, p.since], client);
      const used = Number((await this.#c.run<{ used: number }>('emailRecipientsCount', this.#sql.usedSince, [p.ownerId, p.since], client)).rows[0]!.used);
      const ids = p.entries.map((entry) => entry.taskId);
      const { rows: known } = await this.#c.run<{ task_id: string }>('emailRecipientsCount', this.#sql.alreadyCounted, [ids], client);
      const seen = new Set(known.map((row) => row.task_id));
      const fresh = p.entries.filter((entry) => !seen.has(entry.taskId));
      const adding = fresh.reduce((sum, entry) => sum + entry.recipients, 0);
      if (fresh.length === 0) return { counted: true, used };
      if (p.cap > 0 && used + adding > p.cap) return { counted: false, used };
      await this.#c.run('emailRecipientsCount', this.#sql.record, [fresh.map((e) => e.taskId), fresh.map((e) => e.recipients), p.ownerId, p.now], client);
      return { counted: true, used };
    });
  }
}

function quotasSql({ s, statement }: SqlContext) {
  return {
    // Three index reads and a counter row. Ids are UUIDv7, so "created since" is a range on
    // tasks_created_by_idx (created_by, id); waiting tasks a range of tasks_fair_ready_idx
    // (the owner's group, whose expression this repeats so that the index serves it).
    ownerUsage: statement('owner_usage', `
      SELECT
        (SELECT count(*)::int FROM ${s}.tasks WHERE created_by = $1::uuid AND id >= $2::uuid) AS created_in_window,
        (SELECT id::text FROM ${s}.tasks WHERE created_by = $1::uuid AND id >= $2::uuid ORDER BY id LIMIT 1) AS oldest_id,
        (SELECT count(*)::int FROM ${s}.tasks WHERE ${FAIR_GROUP} = $1::uuid AND status IN (${READY})) AS waiting,
        coalesce((SELECT payload_bytes FROM ${s}.owner_usage WHERE owner_id = $1::uuid), 0)::float8 AS payload_bytes`),
    lockOwner: statement('email_lock_owner', `SELECT pg_advisory_xact_lock(hashtextextended('conveyor.email_recipients:' || $1::text, 0))`),
    forgetBefore: statement('email_forget_before', `DELETE FROM ${s}.email_recipient_log WHERE owner_id = $1::uuid AND counted_at < $2::timestamptz`),
    usedSince: statement('email_used_since', `
      SELECT coalesce(sum(recipients), 0)::float8 AS used FROM ${s}.email_recipient_log WHERE owner_id = $1::uuid AND counted_at >= $2::timestamptz`),
    alreadyCounted: statement('email_already_counted', `SELECT task_id::text FROM ${s}.email_recipient_log WHERE task_id = ANY($1::uuid[])`),
    record: statement('email_record', `
      INSERT INTO ${s}.email_recipient_log (task_id, recipients, owner_id, counted_at)
      SELECT e.task_id, e.recipients, $3::uuid, $4::timestamptz FROM unnest($1::uuid[], $2::int[]) AS e(task_id, recipients)
      ON CONFLICT (task_id) DO NOTHING`),
  };
}
