-- Recurring schedules (version 2): each firing inserts a task built from `template`.

CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  cron TEXT NOT NULL,
  timezone TEXT NOT NULL,
  task_type TEXT NOT NULL,
  template TEXT NOT NULL,                    -- {payload, priority?, maxAttempts?, retryStrategy?, metadata?}
  enabled INTEGER NOT NULL,
  next_run_at INTEGER,                       -- NULL while disabled
  last_run_at INTEGER,                       -- the time the last firing was due
  last_task_id TEXT,
  created_by TEXT REFERENCES users (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
-- A name is unique per owner; schedules without an owner (made by the CLI or the library) share one namespace.
CREATE UNIQUE INDEX schedules_owner_name_key ON schedules (coalesce(created_by, ''), name);
-- The scheduler reads the earliest enabled schedules in this order.
CREATE INDEX schedules_due_idx ON schedules (next_run_at) WHERE enabled;
