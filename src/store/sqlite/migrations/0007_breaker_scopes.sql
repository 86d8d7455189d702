-- Circuit breakers per scope (version 7): a task type whose tasks go to independent destinations (a
-- webhook's host) keeps one breaker per destination, so one unreachable host pauses only the tasks
-- that go there. A task's scope is decided when it is created and stored with it; null means the
-- type's own breaker. A breaker row's scope '' is the type's own breaker.

ALTER TABLE tasks ADD COLUMN breaker_scope TEXT;

CREATE TABLE circuit_breakers_scoped (
  task_type TEXT NOT NULL,
  scope TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  consecutive_successes INTEGER NOT NULL DEFAULT 0,
  opened_at INTEGER,
  reopens_at INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (task_type, scope)
);
INSERT INTO circuit_breakers_scoped (task_type, scope, state, consecutive_failures, consecutive_successes, opened_at, reopens_at, updated_at)
  SELECT task_type, '', state, consecutive_failures, consecutive_successes, opened_at, reopens_at, updated_at FROM circuit_breakers;
DROP TABLE circuit_breakers;
ALTER TABLE circuit_breakers_scoped RENAME TO circuit_breakers;
