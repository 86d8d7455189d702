-- Operator reads at any history size (version 6, issue 16). Both indexes hold finished tasks only, so
-- the drain pays for them once per task, at its completion (none at insert or claim), and a later
-- split of tasks into a hot table and an append-only history keeps them on the history side.

-- Lists filtered by type (and status) over the history, newest first: one range per type and status.
CREATE INDEX tasks_history_type_idx ON tasks (task_type, status, id) WHERE status IN ('completed', 'failed', 'cancelled');
-- The dead letter and the cancelled list, newest first; written only when a task fails or is cancelled.
CREATE INDEX tasks_unsuccessful_idx ON tasks (status, id) WHERE status IN ('failed', 'cancelled');

-- Per-minute rollups of finished tasks per type (and per owner), written by the leader's maintenance
-- loop from tasks_finished_idx: charts read these instead of the history. Counts are of the tasks
-- that finished in the minute, by their status when the minute was rolled up.
-- owner: '*' for every task of the type, or a user's id for that user's tasks only (the role user's charts).
CREATE TABLE task_rollups (
  minute INTEGER NOT NULL,                     -- the start of the minute the tasks finished in (epoch ms)
  task_type TEXT NOT NULL,
  owner TEXT NOT NULL,
  completed INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  cancelled INTEGER NOT NULL,
  -- queue wait (due to started) and run time (started to finished) percentiles, ms; null when none started
  wait_p50_ms INTEGER, wait_p95_ms INTEGER, wait_p99_ms INTEGER,
  run_p50_ms INTEGER, run_p95_ms INTEGER, run_p99_ms INTEGER,
  PRIMARY KEY (owner, minute, task_type)
) WITHOUT ROWID;

-- How far the rollups reach: every minute before rolled_through is in task_rollups. One row.
CREATE TABLE task_rollup_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  rolled_through INTEGER NOT NULL
);

-- Finished tasks counted by owner ('*' for every task, or a user's id), type, priority and status,
-- up to task_rollup_state.rolled_through: GET /tasks/stats adds the few finished since, and counts
-- waiting and running tasks from their own small indexes, so it never scans the history. The
-- rollup adds each minute's tasks; retrying, deleting and pruning a counted task subtract it.
CREATE TABLE task_counts (
  owner TEXT NOT NULL,
  task_type TEXT NOT NULL,
  priority_rank INTEGER NOT NULL,
  status TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (owner, task_type, priority_rank, status)
) WITHOUT ROWID;
