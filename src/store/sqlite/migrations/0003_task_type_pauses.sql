-- Paused task types (version 3): claims skip a paused type until it is resumed.

CREATE TABLE task_type_pauses (
  task_type TEXT PRIMARY KEY,
  paused_at INTEGER NOT NULL,
  paused_by TEXT REFERENCES users (id) ON DELETE SET NULL,
  reason TEXT
) WITHOUT ROWID;
