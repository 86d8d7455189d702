/** What keeps a queue's database healthy, as an engine reports it (Engine.storageStats). */
export interface StorageStats {
  /** PostgreSQL's counters for Conveyor's tables; empty on SQLite. */
  tables: { name: string; liveRows: number; deadRows: number; lastVacuumAt: Date | null }[];
  /** The transaction open longest on this database (another session's), or null when none is. */
  oldestTransaction: { ageMs: number; pid: number; application: string; state: string } | null;
  /** The SQLite write-ahead log's size in bytes; null on PostgreSQL or in memory. */
  walBytes: number | null;
}

export interface StorageWarning {
  /** Which problem it is (`transaction`, `table:<name>`, `wal`), stable while it lasts. */
  key: string;
  /** What was found, in one line. */
  problem: string;
  /** What to do about it. */
  fix: string;
}

export interface StorageLimits {
  deadRows: number;
  vacuumStaleMs: number;
  transactionMs: number;
  walBytes: number;
}

/**
 * Where a queue's database starts to suffer. Every claim and completion leaves a dead row version
 * behind; autovacuum normally clears them within a minute or two, and a backlog of them makes every
 * claim walk further (pg-boss #418, River #59). The usual cause is a transaction left open somewhere,
 * which keeps every row that died since it began. On SQLite a reader that never finishes keeps the
 * write-ahead log from being checkpointed, and it grows without end.
 */
export const STORAGE_LIMITS: StorageLimits = {
  /** Dead rows in a table worth a warning, when they also outnumber the live ones. */
  deadRows: 50_000,
  /** ... and autovacuum has not visited the table for this long. */
  vacuumStaleMs: 10 * 60_000,
  /** A transaction open this long holds back the cleanup of the whole database. */
  transactionMs: 5 * 60_000,
  walBytes: 256 * 1024 * 1024,
};

export function storageWarnings(stats: StorageStats, now: Date, limits: StorageLimits = STORAGE_LIMITS): StorageWarning[] {
  const warnings: StorageWarning[] = [];
  const tx = stats.oldestTransaction;
  if (tx && tx.ageMs >= limits.transactionMs) {
    warnings.push({
      key: 'transaction',
      problem: `a transaction has been open for ${minutes(tx.ageMs)} (pid ${tx.pid}, ${tx.application || 'no application name'}, ${tx.state}): PostgreSQL cannot clean up any row that died since`,
      fix: `End it: find it with SELECT * FROM pg_stat_activity WHERE pid = ${tx.pid}; then commit it in its application, or SELECT pg_terminate_backend(${tx.pid}). Setting idle_in_transaction_session_timeout guards against it.`,
    });
  }
  for (const table of stats.tables) {
    const vacuumedAgo = table.lastVacuumAt === null ? Infinity : now.getTime() - table.lastVacuumAt.getTime();
    if (table.deadRows >= limits.deadRows && table.deadRows > table.liveRows && vacuumedAgo >= limits.vacuumStaleMs) {
      warnings.push({
        key: `table:${table.name}`,
        problem: `${table.name} holds ${table.deadRows.toLocaleString('en')} dead rows (${table.liveRows.toLocaleString('en')} live), last vacuumed ${table.lastVacuumAt ? `${minutes(vacuumedAgo)} ago` : 'never'}: claims slow down as they pile up`,
        fix: `Check that autovacuum runs (SHOW autovacuum) and that no long transaction blocks it; VACUUM ${table.name} clears them now. For a busy queue, ALTER TABLE ${table.name} SET (autovacuum_vacuum_scale_factor = 0.01) makes autovacuum come sooner.`,
      });
    }
  }
  if (stats.walBytes !== null && stats.walBytes >= limits.walBytes) {
    warnings.push({
      key: 'wal',
      problem: `the SQLite write-ahead log is ${Math.round(stats.walBytes / 1024 / 1024)} MB: a reader that never finishes keeps it from being checkpointed`,
      fix: 'Find the process holding a read transaction open (a backup tool, a sqlite3 shell left in a transaction) and end it; the log is then folded back and reset.',
    });
  }
  return warnings;
}

function minutes(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}
