-- Circuit breakers per scope (version 7): a task type whose tasks go to independent destinations (a
-- webhook's host) keeps one breaker per destination, so one unreachable host pauses only the tasks
-- that go there. A task's scope is decided when it is created and stored with it; null means the
-- type's own breaker. A breaker row's scope '' is the type's own breaker.

ALTER TABLE :schema.tasks ADD COLUMN breaker_scope text;

ALTER TABLE :schema.circuit_breakers ADD COLUMN scope text NOT NULL DEFAULT '';
ALTER TABLE :schema.circuit_breakers DROP CONSTRAINT circuit_breakers_pkey;
ALTER TABLE :schema.circuit_breakers ADD PRIMARY KEY (task_type, scope);
