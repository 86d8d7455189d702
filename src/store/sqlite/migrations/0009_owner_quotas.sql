-- Quotas per owner (version 9): what the API and the scheduler count before they create tasks.

-- (Tasks created in the last minute are counted on tasks_created_by_idx: ids are UUIDv7, so "since"
-- is a range of ids. An owner's waiting tasks are counted on tasks_fair_ready_idx, migration 11.)

-- The payload bytes each owner's stored tasks hold, kept by the triggers below on every insert and
-- delete (whoever writes: the API, the scheduler, the library, the pruner), so the quota reads one row.
CREATE TABLE owner_usage (
  owner_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  payload_bytes INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

INSERT INTO owner_usage (owner_id, payload_bytes)
SELECT t.created_by, sum(length(CAST(t.payload AS BLOB))) FROM tasks t JOIN users u ON u.id = t.created_by GROUP BY t.created_by;

CREATE TRIGGER tasks_owner_usage_added AFTER INSERT ON tasks WHEN NEW.created_by IS NOT NULL
BEGIN
  INSERT INTO owner_usage (owner_id, payload_bytes) VALUES (NEW.created_by, length(CAST(NEW.payload AS BLOB)))
  ON CONFLICT (owner_id) DO UPDATE SET payload_bytes = payload_bytes + excluded.payload_bytes;
END;

CREATE TRIGGER tasks_owner_usage_removed AFTER DELETE ON tasks WHEN OLD.created_by IS NOT NULL
BEGIN
  UPDATE owner_usage SET payload_bytes = max(0, payload_bytes - length(CAST(OLD.payload AS BLOB))) WHERE owner_id = OLD.created_by;
END;

-- Email recipients per owner, one row per task (so a retried send is not counted twice): the daily
-- cap of the role `user` sums the rows of the last 24 hours, on every API server and worker alike.
CREATE TABLE email_recipient_log (
  task_id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  counted_at INTEGER NOT NULL,
  recipients INTEGER NOT NULL CHECK (recipients >= 0)
) WITHOUT ROWID;
CREATE INDEX email_recipient_log_owner_idx ON email_recipient_log (owner_id, counted_at);

-- A firing the scheduler skipped (its owner was over a quota), shown on the schedule.
ALTER TABLE schedules ADD COLUMN last_skipped_at INTEGER;
ALTER TABLE schedules ADD COLUMN last_skip_reason TEXT;
