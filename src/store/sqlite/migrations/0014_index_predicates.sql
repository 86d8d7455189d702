-- The tasks table and its ready and history indexes, cheaper to keep (version 14, SQLite only).
--
-- Their `status` tests are written with ORs instead of IN lists. SQLite evaluates `status IN ('a',
-- 'b', 'c')` by building a small temporary index, and an INSERT or UPDATE builds it anew for every row
-- it writes, once for the CHECK constraint and once for each partial index that names status: that
-- was half of the instructions of a claim and of a completion, and more of an insert (callgrind,
-- 5,000 no-op tasks). The statements spell them the same way (store/shared/status-terms.ts), arm for
-- arm: SQLite matches a partial index by its terms. A CHECK constraint cannot be altered in SQLite,
-- so the table is copied into a new one: this migration takes time in proportion to the tasks kept.
--
-- And each ready task is in one index that keeps claim order, not two: tasks_fair_ready_idx already
-- holds every ready task by fair-share group, nobody's tasks as the group '', so tasks_ready_idx,
-- which held them all again, becomes tasks_owned_ready_idx, the owners' tasks only. A claim reads
-- nobody's tasks from the group '' and owners' tasks from the new index (store/sqlite/sql-parts.ts
-- readyInClaimOrder); a task with an owner is in both, as before. The fair index's expression must
-- stay the same as FAIR_GROUP, which now lives in store/sqlite/sql-parts.ts.
--
-- PostgreSQL evaluates IN lists without building anything, and a claim there writes no ready-index
-- entry, so its version 14 changes nothing.

CREATE TABLE tasks_v14 (
  id TEXT PRIMARY KEY,                       -- UUIDv7: later ids sort later
  task_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status = 'pending' OR status = 'scheduled' OR status = 'running' OR status = 'retrying'
                              OR status = 'completed' OR status = 'failed' OR status = 'cancelled'),
  priority_rank INTEGER NOT NULL CHECK (priority_rank BETWEEN 0 AND 3),  -- 0 critical .. 3 low
  retry_strategy TEXT NOT NULL,
  max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
  current_attempt INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  output TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  idempotency_key TEXT,
  created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  scheduled_at INTEGER,                      -- as the user asked; NULL = as soon as possible
  run_at INTEGER NOT NULL,                   -- when it is next due (schedule or retry time)
  started_at INTEGER,
  completed_at INTEGER,
  worker_id TEXT,
  lease_expires_at INTEGER,
  cancel_requested_at INTEGER,
  rescue_count INTEGER NOT NULL DEFAULT 0,
  progress TEXT,
  attempts TEXT NOT NULL DEFAULT '[]',       -- finished attempts: [{attempt, worker_id, started_at, finished_at, outcome, error}]
  attempt_started INTEGER NOT NULL DEFAULT 1,
  unstarted_losses INTEGER NOT NULL DEFAULT 0,
  breaker_scope TEXT
) WITHOUT ROWID;

INSERT INTO tasks_v14 (id, task_type, payload, status, priority_rank, retry_strategy, max_attempts, current_attempt, last_error, output,
                       metadata, idempotency_key, created_by, created_at, updated_at, scheduled_at, run_at, started_at, completed_at,
                       worker_id, lease_expires_at, cancel_requested_at, rescue_count, progress, attempts, attempt_started,
                       unstarted_losses, breaker_scope)
SELECT id, task_type, payload, status, priority_rank, retry_strategy, max_attempts, current_attempt, last_error, output,
       metadata, idempotency_key, created_by, created_at, updated_at, scheduled_at, run_at, started_at, completed_at,
       worker_id, lease_expires_at, cancel_requested_at, rescue_count, progress, attempts, attempt_started,
       unstarted_losses, breaker_scope
  FROM tasks;

-- Its indexes and triggers go with it.
DROP TABLE tasks;
ALTER TABLE tasks_v14 RENAME TO tasks;

CREATE INDEX tasks_lease_idx ON tasks (lease_expires_at) WHERE status = 'running';
CREATE UNIQUE INDEX tasks_idempotency_key ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_created_by_idx ON tasks (created_by, id) WHERE created_by IS NOT NULL;

CREATE INDEX tasks_owned_ready_idx ON tasks (priority_rank, run_at, id)
  WHERE (status = 'pending' OR status = 'scheduled' OR status = 'retrying') AND created_by IS NOT NULL;
CREATE INDEX tasks_fair_ready_idx ON tasks (coalesce(created_by, ''), priority_rank, run_at, id)
  WHERE (status = 'pending' OR status = 'scheduled' OR status = 'retrying');
CREATE INDEX tasks_finished_idx ON tasks (completed_at)
  WHERE (status = 'completed' OR status = 'failed' OR status = 'cancelled');
CREATE INDEX tasks_history_type_idx ON tasks (task_type, status, id)
  WHERE (status = 'completed' OR status = 'failed' OR status = 'cancelled');
CREATE INDEX tasks_unsuccessful_idx ON tasks (status, id)
  WHERE (status = 'failed' OR status = 'cancelled');
CREATE INDEX tasks_owner_unsuccessful_idx ON tasks (created_by, status, id)
  WHERE (status = 'failed' OR status = 'cancelled') AND created_by IS NOT NULL;

CREATE TRIGGER tasks_owner_usage_added AFTER INSERT ON tasks WHEN NEW.created_by IS NOT NULL
BEGIN
  INSERT INTO owner_usage (owner_id, payload_bytes) VALUES (NEW.created_by, length(CAST(NEW.payload AS BLOB)))
  ON CONFLICT (owner_id) DO UPDATE SET payload_bytes = payload_bytes + excluded.payload_bytes;
END;

CREATE TRIGGER tasks_owner_usage_removed AFTER DELETE ON tasks WHEN OLD.created_by IS NOT NULL
BEGIN
  UPDATE owner_usage SET payload_bytes = max(0, payload_bytes - length(CAST(OLD.payload AS BLOB))) WHERE owner_id = OLD.created_by;
END;
