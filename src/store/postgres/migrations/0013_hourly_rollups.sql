-- Hourly rollups (version 13, issue 16). The 7-day chart read ~60,000 minutes of task_rollups (one
-- per minute and type); it reads 168 hours per type instead, and minutes only for the hour not yet
-- made into an hour. Written by the leader's rollup, in its transaction, from the minutes of each hour
-- the minutes have completed: counts added up, each percentile the largest of the hour's minutes'
-- (what the chart showed when it merged the minutes itself; an hour's exact percentile cannot be made
-- from its minutes). Deleted with the minutes, past the charts' 7 days.
CREATE TABLE :schema.task_rollups_hourly (
  hour timestamptz NOT NULL,                     -- the start of the hour (UTC hours)
  task_type text NOT NULL,
  owner text NOT NULL,                           -- '*' or a user's id, as in task_rollups
  completed integer NOT NULL,
  failed integer NOT NULL,
  cancelled integer NOT NULL,
  wait_p50_ms integer, wait_p95_ms integer, wait_p99_ms integer,
  run_p50_ms integer, run_p95_ms integer, run_p99_ms integer,
  PRIMARY KEY (owner, hour, task_type)
);

-- Every hour before hours_through is in task_rollups_hourly (null: none yet; an upgraded database's
-- first rollup runs make the last 7 days' hours from the minutes already there).
ALTER TABLE :schema.task_rollup_state ADD COLUMN hours_through timestamptz;

-- The minutes of one hour across owners, for making that hour (and for deleting old minutes);
-- the primary key leads with the owner.
CREATE INDEX task_rollups_minute_idx ON :schema.task_rollups (minute);
