-- Fair sharing of worker slots between owners (version 11): the ready tasks ordered by their group
-- (the owner; nobody's tasks as the zero uuid) then by claim order. A claim asks "does another owner
-- have tasks waiting?" as two probes of it, and, only when one does, takes each waiting owner's next
-- tasks from it. The expression must stay the same as FAIR_GROUP in store/postgres/fair-claim.ts.

CREATE INDEX tasks_fair_ready_idx ON :schema.tasks (coalesce(created_by, '00000000-0000-0000-0000-000000000000'::uuid), priority_rank, run_at, id)
  WHERE status IN ('pending', 'scheduled', 'retrying');
