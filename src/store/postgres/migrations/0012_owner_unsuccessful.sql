-- An owner's dead letter and cancelled tasks, newest first (version 12, issue 16). Without it, "my
-- failed tasks" walked tasks_unsuccessful_idx over every owner's failures and read each row to see
-- its owner: ~0.6 s per page and capped count at 3,000,000 tasks. Written only when a task with an
-- owner fails or is cancelled, so the drain never pays for it.
CREATE INDEX tasks_owner_unsuccessful_idx ON :schema.tasks (created_by, status, id)
  WHERE status IN ('failed', 'cancelled') AND created_by IS NOT NULL;
