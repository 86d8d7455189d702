-- Concurrency limits per task type (version 4): at most max_running of its tasks claimed at once,
-- across every worker.

CREATE TABLE task_type_limits (
  task_type TEXT PRIMARY KEY,
  max_running INTEGER NOT NULL CHECK (max_running >= 1),
  updated_at INTEGER NOT NULL,
  updated_by TEXT REFERENCES users (id) ON DELETE SET NULL
) WITHOUT ROWID;
