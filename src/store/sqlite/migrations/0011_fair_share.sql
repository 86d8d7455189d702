-- Fair sharing of worker slots between owners (version 11): the ready tasks ordered by their group
-- (the owner; '' for nobody's tasks) then by claim order. A claim asks "does another owner have tasks
-- waiting?" as two probes of it, and, only when one does, takes each waiting owner's next tasks from
-- it. The expression must stay the same as FAIR_GROUP in store/sqlite/fair-claim.ts.

CREATE INDEX tasks_fair_ready_idx ON tasks (coalesce(created_by, ''), priority_rank, run_at, id)
  WHERE status IN ('pending', 'scheduled', 'retrying');
