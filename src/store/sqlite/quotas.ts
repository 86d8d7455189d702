import { uuidv7Floor, uuidv7Time } from '../../core/id.ts';
import type { OwnerUsage } from '../../core/quota.ts';
import { FAIR_GROUP, READY } from './sql-parts.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/** What quotas count per owner: recent and waiting tasks, stored payload bytes, email recipients. */
export class QuotaStore {
  readonly #c: SqliteConnection;

  constructor(c: SqliteConnection) {
    this.#c = c;
  }

  ownerUsage(p: { ownerId: string; since: Date }): Promise<OwnerUsage> {
    return this.#c.run('ownerUsage', () => {
      const row = this.#c.prepare(OWNER_USAGE).get({ ownerId: p.ownerId, since: uuidv7Floor(p.since.getTime()) }) as {
        created_in_window: number; oldest_id: string | null; waiting: number; payload_bytes: number;
      };
      return {
        createdInWindow: row.created_in_window,
        oldestInWindow: row.oldest_id === null ? null : uuidv7Time(row.oldest_id),
        waiting: row.waiting,
        payloadBytes: row.payload_bytes,
      };
    });
  }

  // One write transaction (BEGIN IMMEDIATE): the single writer serialises counts across processes.
  emailRecipientsCount(p: { ownerId: string; entries: readonly { taskId: string; recipients: number }[]; since: Date; cap: number; now: Date }): Promise<{ counted: boolean; used: number }> {
    return this.#c.write('emailRecipientsCount', () => {
      const owner = { ownerId: p.ownerId, since: p.since.getTime() };
      this.#c.prepare(FORGET_BEFORE).run(owner);
      const used = (this.#c.prepare(USED_SINCE).get(owner) as { used: number }).used;
      const known = this.#c.prepare(ALREADY_COUNTED);
      const fresh = p.entries.filter((entry) => known.get(entry.taskId) === undefined);
      const adding = fresh.reduce((sum, entry) => sum + entry.recipients, 0);
      if (fresh.length === 0) return { counted: true, used };
      if (p.cap > 0 && used + adding > p.cap) return { counted: false, used };
      const record = this.#c.prepare(RECORD);
      for (const entry of fresh) record.run({ taskId: entry.taskId, ownerId: p.ownerId, now: p.now.getTime(), recipients: entry.recipients });
      return { counted: true, used };
    });
  }
}

// Ids are UUIDv7, so "created since" is a range on tasks_created_by_idx (created_by, id); waiting tasks
// a range of tasks_fair_ready_idx (the owner's group, its expression repeated so that the index serves
// it); stored bytes one counter row kept by triggers.
const OWNER_USAGE = `
  SELECT count(*) AS created_in_window, min(id) AS oldest_id,
    (SELECT count(*) FROM tasks WHERE ${FAIR_GROUP} = @ownerId AND ${READY}) AS waiting,
    coalesce((SELECT payload_bytes FROM owner_usage WHERE owner_id = @ownerId), 0) AS payload_bytes
  FROM tasks WHERE created_by = @ownerId AND id >= @since`;

const FORGET_BEFORE = `DELETE FROM email_recipient_log WHERE owner_id = @ownerId AND counted_at < @since`;
const USED_SINCE = `SELECT coalesce(sum(recipients), 0) AS used FROM email_recipient_log WHERE owner_id = @ownerId AND counted_at >= @since`;
const ALREADY_COUNTED = `SELECT 1 FROM email_recipient_log WHERE task_id = ?`;
const RECORD = `
  INSERT INTO email_recipient_log (task_id, owner_id, counted_at, recipients) VALUES (@taskId, @ownerId, @now, @recipients)
  ON CONFLICT (task_id) DO NOTHING`;
