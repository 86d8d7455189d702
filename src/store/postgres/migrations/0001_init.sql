-- Conveyor schema, version 1 (PostgreSQL). `:schema` is replaced with the quoted schema name.
-- Timestamps are timestamptz; JSON is jsonb. Every "now" is supplied by the application's clock.

CREATE TABLE :schema.users (
  id uuid PRIMARY KEY,
  username text NOT NULL,
  email text NOT NULL,
  password_hash text NOT NULL,
  role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  last_login_at timestamptz
);
CREATE UNIQUE INDEX users_username_key ON :schema.users (lower(username));
CREATE UNIQUE INDEX users_email_key ON :schema.users (lower(email));

CREATE TABLE :schema.sessions (
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES :schema.users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  last_refreshed_at timestamptz,
  user_agent text
);
CREATE INDEX sessions_user_idx ON :schema.sessions (user_id);
CREATE INDEX sessions_expires_idx ON :schema.sessions (expires_at);

CREATE TABLE :schema.tasks (
  id uuid PRIMARY KEY,                       -- UUIDv7: later ids sort later
  task_type text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'scheduled', 'running', 'retrying', 'completed', 'failed', 'cancelled')),
  priority_rank smallint NOT NULL CHECK (priority_rank BETWEEN 0 AND 3),  -- 0 critical .. 3 low
  retry_strategy jsonb NOT NULL,
  max_attempts integer NOT NULL CHECK (max_attempts >= 1),
  current_attempt integer NOT NULL DEFAULT 0,
  last_error text,
  output jsonb,
  metadata jsonb NOT NULL DEFAULT '{}',
  idempotency_key text,
  created_by uuid REFERENCES :schema.users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  scheduled_at timestamptz,                  -- as the user asked; NULL = as soon as possible
  run_at timestamptz NOT NULL,               -- when it is next due (schedule or retry time)
  started_at timestamptz,
  completed_at timestamptz,
  worker_id text,
  lease_expires_at timestamptz,
  cancel_requested_at timestamptz,
  rescue_count integer NOT NULL DEFAULT 0,
  progress jsonb,
  attempts jsonb NOT NULL DEFAULT '[]'       -- finished attempts: [{attempt, worker_id, started_at, finished_at, outcome, error}]
);
-- The claim reads this index in order and stops after LIMIT rows. Partial, so finished tasks cost nothing.
CREATE INDEX tasks_ready_idx ON :schema.tasks (priority_rank, run_at, id) WHERE status IN ('pending', 'scheduled', 'retrying');
CREATE INDEX tasks_lease_idx ON :schema.tasks (lease_expires_at) WHERE status = 'running';
CREATE INDEX tasks_finished_idx ON :schema.tasks (completed_at) WHERE status IN ('completed', 'failed', 'cancelled');
CREATE UNIQUE INDEX tasks_idempotency_key ON :schema.tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_created_by_idx ON :schema.tasks (created_by, id) WHERE created_by IS NOT NULL;

CREATE TABLE :schema.task_types (
  name text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  payload_schema jsonb,
  examples jsonb NOT NULL DEFAULT '[]',
  timeout_ms integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL
);

CREATE TABLE :schema.circuit_breakers (
  task_type text PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
  consecutive_failures integer NOT NULL DEFAULT 0,
  consecutive_successes integer NOT NULL DEFAULT 0,
  opened_at timestamptz,
  reopens_at timestamptz,
  updated_at timestamptz NOT NULL
);

CREATE TABLE :schema.workers (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  concurrency integer NOT NULL,
  running integer NOT NULL,
  task_types jsonb NOT NULL,
  started_at timestamptz NOT NULL,
  last_heartbeat_at timestamptz NOT NULL
);

CREATE TABLE :schema.leaders (
  name text PRIMARY KEY,
  leader_id text NOT NULL,
  expires_at timestamptz NOT NULL
);

-- Wakes idle workers at commit time, including for inserts made in the application's own transaction.
CREATE FUNCTION :schema.notify_task_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], '');
  RETURN NULL;
END $$;
CREATE TRIGGER tasks_notify_insert AFTER INSERT ON :schema.tasks
  FOR EACH STATEMENT EXECUTE FUNCTION :schema.notify_task_inserted(:channel);
