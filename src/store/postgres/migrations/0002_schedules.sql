-- Recurring schedules (version 2): each firing inserts a task built from `template`.

CREATE TABLE :schema.schedules (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  cron text NOT NULL,
  timezone text NOT NULL,
  task_type text NOT NULL,
  template jsonb NOT NULL,                   -- {payload, priority?, maxAttempts?, retryStrategy?, metadata?}
  enabled boolean NOT NULL,
  next_run_at timestamptz,                   -- NULL while disabled
  last_run_at timestamptz,                   -- the time the last firing was due
  last_task_id uuid,
  created_by uuid REFERENCES :schema.users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
-- A name is unique per owner; schedules without an owner (made by the CLI or the library) share one namespace.
CREATE UNIQUE INDEX schedules_owner_name_key ON :schema.schedules (coalesce(created_by, '00000000-0000-0000-0000-000000000000'::uuid), name);
-- The scheduler reads the earliest enabled schedules in this order.
CREATE INDEX schedules_due_idx ON :schema.schedules (next_run_at) WHERE enabled;
