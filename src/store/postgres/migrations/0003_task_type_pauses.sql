-- Paused task types (version 3): claims skip a paused type until it is resumed.

CREATE TABLE :schema.task_type_pauses (
  task_type text PRIMARY KEY,
  paused_at timestamptz NOT NULL,
  paused_by uuid REFERENCES :schema.users (id) ON DELETE SET NULL,
  reason text
);
