-- Hourly rollups (version 13, issue 16). The 7-day chart read ~60,000 minutes of task_rollups (one
-- per minute and type); it reads 168 hours per type instead, and minutes only for the hour not yet
-- made into an hour. Written by the leader's rollup, in its transaction, from the minutes of each hour
-- the minutes have completed: counts added up, each percentile the largest of the hour's minutes'
-- (what the chart showed when it merged the minutes itself; an hour's exact percentile cannot be made
-- from its minutes). Deleted with the minutes, past the charts' 7 days.
CREATE TABLE task_rollups_hourly (
  hour INTEGER NOT NULL,                       -- the start of the hour (epoch ms, a multiple of 3,600,000)
  task_type TEXT NOT NULL,
  owner TEXT NOT NULL,                         -- '*' or a user's id, as in task_rollups
  completed INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  cancelled INTEGER NOT NULL,
  wait_p50_ms INTEGER, wait_p95_ms INTEGER, wait_p99_ms INTEGER,
  run_p50_ms INTEGER, run_p95_ms INTEGER, run_p99_ms INTEGER,
  PRIMARY KEY (owner, hour, task_type)
) WITHOUT ROWID;

-- Every hour before hours_through is in task_rollups_hourly (null: none yet; an upgraded database's
-- first rollup runs make the last 7 days' hours from the minutes already there).
ALTER TABLE task_rollup_state ADD COLUMN hours_through INTEGER;

-- The minutes of one hour across owners, for making that hour (and for deleting old minutes);
-- the primary key leads with the owner.
CREATE INDEX task_rollups_minute_idx ON task_rollups (minute);
