import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { newTask } from '../../src/core/new-task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { openSqliteEngine } from '../../src/store/sqlite/sqlite-engine.ts';
import { sqliteTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { KNOWN_MIGRATIONS } from '../helpers/known-migrations.ts';

const OWNER = '0190a000-0000-7000-8000-000000000001';

/**
 * Version 14 copies SQLite's tasks table into a new one (a CHECK constraint cannot be altered) and
 * rebuilds its indexes and triggers: a database with tasks in every state must come out with the same
 * rows, and claims, owner counters and history reads must work on it.
 */
describe('SQLite migration 14 (tasks table copied, index predicates as ORs)', () => {
  let db: TestDatabase;
  let filename: string;
  let engine: Engine;
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));

  beforeEach(() => {
    db = sqliteTestDatabase();
    filename = db.url.slice('sqlite:'.length);
    // A database as version 13 left it.
    const raw = new Database(filename);
    raw.pragma('journal_mode = WAL');
    raw.pragma('foreign_keys = ON');
    raw.exec('CREATE TABLE conveyor_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const migration of KNOWN_MIGRATIONS.filter((m) => m.version < 14)) {
      raw.exec(migration.sql);
      raw.prepare('INSERT INTO conveyor_migrations (version, name, applied_at) VALUES (?, ?, 0)').run(migration.version, migration.name);
    }
    raw.prepare("INSERT INTO users (id, username, email, password_hash, created_at, updated_at) VALUES (?, 'ann', 'ann@example.com', 'x', 0, 0)").run(OWNER);
    raw.close();
    engine = openSqliteEngine({ filename });
  });
  afterEach(async () => {
    await engine.close();
    await db.drop();
  });

  const rows = () => {
    const raw = new Database(filename, { readonly: true });
    try {
      return raw.prepare('SELECT * FROM tasks ORDER BY id').all();
    } finally {
      raw.close();
    }
  };
  const payloadBytes = () => {
    const raw = new Database(filename, { readonly: true });
    try {
      return (raw.prepare('SELECT payload_bytes FROM owner_usage WHERE owner_id = ?').get(OWNER) as { payload_bytes: number }).payload_bytes;
    } finally {
      raw.close();
    }
  };

  it('keeps every task as it was, and claims, counters and lists work after it', async () => {
    // A millisecond apart, so that claim order (priority, due time, id) is known.
    const insert = async (createdBy: string | null, priority: 'high' | 'normal' = 'normal') => {
      clock.advance(1);
      return (await engine.taskInsert({ task: newTask({ taskType: 'report', payload: { n: 1 }, createdBy, priority }, clock.now()) })).task;
    };
    const nobodys = await insert(null);
    const owned = await insert(OWNER, 'high');
    const finished = await insert(OWNER);
    const raw = new Database(filename);
    raw.prepare("UPDATE tasks SET status = 'failed', completed_at = ?, last_error = 'boom' WHERE id = ?").run(clock.now().getTime(), finished.id);
    raw.close();
    const before = rows();
    const bytesBefore = payloadBytes();

    const report = await engine.migrate();
    expect(report.applied.map((m) => m.version)).toEqual([14]);
    expect(rows()).toEqual(before);

    // Triggers are back: an owned task adds its payload to the owner's counter, deleting it takes it off.
    const later = await insert(OWNER);
    expect(payloadBytes()).toBeGreaterThan(bytesBefore);
    // Both ready sources, in claim order: the owner's high-priority task first, then nobody's, then the newer owned one.
    const claimed = await engine.taskClaim({ workerId: 'w1', taskTypes: ['report'], limit: 10, now: clock.now(), leaseMs: 30_000 });
    expect(claimed.map((task) => task.id)).toEqual([owned.id, nobodys.id, later.id]);
    expect((await engine.taskList({ status: ['failed'], limit: 10 })).tasks.map((task) => task.id)).toEqual([finished.id]);
    expect(await engine.taskDelete({ id: finished.id })).toBe('deleted');
    // The newer task's payload counted in, the deleted one's out: both the same size.
    expect(payloadBytes()).toBe(bytesBefore);
  });

  it('leaves no IN list in the CHECK or the partial indexes of tasks (SQLite would build a temporary index for it on every row written)', async () => {
    await engine.migrate();
    const raw = new Database(filename, { readonly: true });
    const schema = raw.prepare("SELECT name, sql FROM sqlite_schema WHERE tbl_name = 'tasks' AND sql IS NOT NULL").all() as { name: string; sql: string }[];
    raw.close();
    expect(schema.map((entry) => entry.name)).toEqual(expect.arrayContaining(['tasks', 'tasks_fair_ready_idx', 'tasks_owned_ready_idx', 'tasks_finished_idx', 'tasks_history_type_idx']));
    expect(schema.filter((entry) => / IN \(/i.test(entry.sql)).map((entry) => entry.name)).toEqual([]);
  });
});
