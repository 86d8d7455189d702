-- Conveyor schema, version 1 (SQLite). Timestamps are integer milliseconds since the epoch (UTC);
-- JSON is stored as text. Every "now" is supplied by the application's clock.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  email TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
  is_active INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_login_at INTEGER
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  last_refreshed_at INTEGER,
  user_agent TEXT
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,                       -- UUIDv7: later ids sort later
  task_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'scheduled', 'running', 'retrying', 'completed', 'failed', 'cancelled')),
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
  attempts TEXT NOT NULL DEFAULT '[]'        -- finished attempts: [{attempt, worker_id, started_at, finished_at, outcome, error}]
) WITHOUT ROWID;
CREATE INDEX tasks_ready_idx ON tasks (priority_rank, run_at, id) WHERE status IN ('pending', 'scheduled', 'retrying');
CREATE INDEX tasks_lease_idx ON tasks (lease_expires_at) WHERE status = 'running';
CREATE INDEX tasks_finished_idx ON tasks (completed_at) WHERE status IN ('completed', 'failed', 'cancelled');
CREATE UNIQUE INDEX tasks_idempotency_key ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_created_by_idx ON tasks (created_by, id) WHERE created_by IS NOT NULL;

CREATE TABLE task_types (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  payload_schema TEXT,
  examples TEXT NOT NULL DEFAULT '[]',
  timeout_ms INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
);

CREATE TABLE circuit_breakers (
  task_type TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  consecutive_successes INTEGER NOT NULL DEFAULT 0,
  opened_at INTEGER,
  reopens_at INTEGER,
  updated_at INTEGER NOT NULL
);

CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  concurrency INTEGER NOT NULL,
  running INTEGER NOT NULL,
  task_types TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  last_heartbeat_at INTEGER NOT NULL
);

CREATE TABLE leaders (
  name TEXT PRIMARY KEY,
  leader_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
