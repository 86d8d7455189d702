-- Version 14 changes SQLite's indexes only (see store/sqlite/migrations/0014_index_predicates.sql):
-- their predicates become ORs, because SQLite rebuilds a temporary index for an IN list on every row
-- an UPDATE writes, and each ready task is kept in one claim-order index instead of two. PostgreSQL
-- evaluates IN lists without building anything, and its claim writes no ready-index entry (the
-- claimed row version is in neither ready index), so nothing changes here; the version is kept so
-- that both engines count the same.
SELECT 1;
