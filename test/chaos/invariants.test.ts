import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { insertTasks, openTestEngine } from '../helpers/task-fixtures.ts';
import { checkInvariants } from './invariants.ts';
import { openRawDatabase, type RawDatabase } from './raw-database.ts';

/**
 * The chaos suite's invariants must be able to fail: rows written by SQL in each broken shape, and
 * one healthy history (a rescued attempt, then a completion) that must pass.
 */
describe.each(testDatabases)('chaos invariants on $kind', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  let raw: RawDatabase;

  afterEach(async () => {
    await raw?.close();
    await engine?.close();
    await db?.drop();
  });

  /** Sets columns of one task row; times are Dates, JSON is given as objects. */
  const set = async (id: string, fields: Record<string, unknown>) => {
    const names = Object.keys(fields);
    const value = (v: unknown) => (v instanceof Date ? (raw.kind === 'sqlite' ? v.getTime() : v.toISOString()) : v !== null && typeof v === 'object' ? JSON.stringify(v) : v);
    const placeholder = (i: number) => (raw.kind === 'sqlite' ? '?' : `$${i + 1}`);
    await raw.query(`UPDATE tasks SET ${names.map((n, i) => `${n} = ${placeholder(i)}`).join(', ')} WHERE id = ${placeholder(names.length)}`, [...names.map((n) => value(fields[n])), id]);
  };

  it('passes a healthy history and names each broken task under its invariant', async () => {
    db = create();
    engine = await openTestEngine(db);
    raw = await openRawDatabase(db.url);
    const [healthy, overlapping, stuck, innocent, poison, untouched] = await insertTasks(
      engine,
      Array.from({ length: 6 }, () => ({ taskType: 'chaos_work', payload: {} })),
    );
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));
    const entry = (attempt: number, start: number, end: number, outcome: string) => ({ attempt, worker_id: 'w:1:a', started_at: at(start).toISOString(), finished_at: at(end).toISOString(), outcome, error: outcome === 'completed' ? null : 'x' });

    // Rescued at 0:05, run again from 0:06: no overlap.
    await set(healthy!.id, { status: 'completed', current_attempt: 2, started_at: at(6), completed_at: at(7), attempts: [entry(1, 0, 5, 'lease_expired')] });
    // Attempt 2 started at 0:03 while attempt 1 ran until 0:05.
    await set(overlapping!.id, { status: 'completed', current_attempt: 2, started_at: at(3), completed_at: at(8), attempts: [entry(1, 0, 5, 'failed')] });
    await set(stuck!.id, { status: 'running', current_attempt: 1, started_at: at(0), worker_id: 'w:1:a', lease_expires_at: at(1) });
    await set(innocent!.id, { status: 'failed', current_attempt: 1, last_error: 'lease expired', completed_at: at(2) });
    await set(untouched!.id, { status: 'completed', current_attempt: 1, started_at: at(0), completed_at: at(1) });

    const report = await checkInvariants(raw, [{ id: poison!.id, label: 'a poison' }]);
    const byInvariant = Object.fromEntries(report.violations.map((v) => [v.invariant, [...v.ids].sort()]));
    expect(byInvariant).toEqual({
      'every-task-final': [stuck!.id, poison!.id].sort(),
      'no-overlapping-attempts': [overlapping!.id],
      'no-innocent-dead-letter': [innocent!.id],
      'no-running-without-lease': [stuck!.id],
      'poisons-dead-lettered': [poison!.id],
    });
    expect(report.tasks).toBe(6);
  });
});
