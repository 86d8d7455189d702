-- Quotas per owner (version 9): what the API and the scheduler count before they create tasks.

-- (Tasks created in the last minute are counted on tasks_created_by_idx: ids are UUIDv7, so "since"
-- is a range of ids. An owner's waiting tasks are counted on tasks_fair_ready_idx, migration 11.)

-- The payload bytes each owner's stored tasks hold, kept by the triggers below on every insert and
-- delete (whoever writes: the API, the scheduler, the library, the pruner), so the quota reads one row.
CREATE TABLE :schema.owner_usage (
  owner_id uuid PRIMARY KEY REFERENCES :schema.users (id) ON DELETE CASCADE,
  payload_bytes bigint NOT NULL DEFAULT 0
);

INSERT INTO :schema.owner_usage (owner_id, payload_bytes)
SELECT t.created_by, sum(octet_length(t.payload::text)) FROM :schema.tasks t JOIN :schema.users u ON u.id = t.created_by GROUP BY t.created_by;

-- Once per statement, not per row: a batch of 1,000 tasks adds to its owner's row once. Owners in id
-- order, so two batches of several owners lock their rows in the same order. Static SQL (planned once
-- per connection) while the schema keeps the name it was migrated under; after a rename (the test
-- suite's schema pool renames schemas) the same statement runs through EXECUTE on the new name.
CREATE FUNCTION :schema.owner_usage_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF '"' || replace(TG_TABLE_SCHEMA, '"', '""') || '"' = ':schema' THEN
    INSERT INTO :schema.owner_usage AS u (owner_id, payload_bytes)
    SELECT created_by, sum(octet_length(payload::text)) FROM added WHERE created_by IS NOT NULL GROUP BY created_by ORDER BY created_by
    ON CONFLICT (owner_id) DO UPDATE SET payload_bytes = u.payload_bytes + EXCLUDED.payload_bytes;
  ELSE
    EXECUTE format(
      'INSERT INTO %I.owner_usage AS u (owner_id, payload_bytes)
       SELECT created_by, sum(octet_length(payload::text)) FROM added WHERE created_by IS NOT NULL GROUP BY created_by ORDER BY created_by
       ON CONFLICT (owner_id) DO UPDATE SET payload_bytes = u.payload_bytes + EXCLUDED.payload_bytes', TG_TABLE_SCHEMA);
  END IF;
  RETURN NULL;
END $$;

-- Deletes are the pruner's and an operator's, never a hot path: always by the trigger's own schema.
CREATE FUNCTION :schema.owner_usage_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format(
    'UPDATE %I.owner_usage u SET payload_bytes = greatest(0, u.payload_bytes - r.bytes)
     FROM (SELECT created_by, sum(octet_length(payload::text)) AS bytes FROM removed WHERE created_by IS NOT NULL GROUP BY created_by) r
     WHERE u.owner_id = r.created_by', TG_TABLE_SCHEMA);
  RETURN NULL;
END $$;

CREATE TRIGGER tasks_owner_usage_added AFTER INSERT ON :schema.tasks REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION :schema.owner_usage_added();
CREATE TRIGGER tasks_owner_usage_removed AFTER DELETE ON :schema.tasks REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION :schema.owner_usage_removed();

-- Email recipients per owner, one row per task (so a retried send is not counted twice): the daily
-- cap of the role `user` sums the rows of the last 24 hours, on every API server and worker alike.
CREATE TABLE :schema.email_recipient_log (
  task_id uuid PRIMARY KEY,
  owner_id uuid NOT NULL REFERENCES :schema.users (id) ON DELETE CASCADE,
  counted_at timestamptz NOT NULL,
  recipients integer NOT NULL CHECK (recipients >= 0)
);
CREATE INDEX email_recipient_log_owner_idx ON :schema.email_recipient_log (owner_id, counted_at);

-- A firing the scheduler skipped (its owner was over a quota), shown on the schedule.
ALTER TABLE :schema.schedules ADD COLUMN last_skipped_at timestamptz, ADD COLUMN last_skip_reason text;
