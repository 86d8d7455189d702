-- Concurrency limits per task type (version 4): at most max_running of its tasks claimed at once,
-- across every worker.

CREATE TABLE :schema.task_type_limits (
  task_type text PRIMARY KEY,
  max_running integer NOT NULL CHECK (max_running >= 1),
  updated_at timestamptz NOT NULL,
  updated_by uuid REFERENCES :schema.users (id) ON DELETE SET NULL
);
