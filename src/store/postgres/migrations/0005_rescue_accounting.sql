-- Fair rescue accounting (version 5). A claim fills a worker's free slots and may take more ahead
-- (its prefetch); only an attempt whose handler started can have killed its worker.
--   attempt_started: the running attempt's handler started (or the claim counted it as starting at
--     once); false while a claimed task waits in a worker's queue. The rescuer counts a lost lease
--     against max_rescues only when it is true. Rows running when this migrates count as started.
--   unstarted_losses: how many times a lease of this task was lost before its handler started (not
--     counted as rescues). A task lost so is not trusted to be marked in time again: its next start is
--     written before its handler runs.
ALTER TABLE :schema.tasks
  ADD COLUMN attempt_started boolean NOT NULL DEFAULT true,
  ADD COLUMN unstarted_losses integer NOT NULL DEFAULT 0;
