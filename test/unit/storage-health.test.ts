import { describe, expect, it } from 'vitest';
import { storageWarnings, type StorageStats } from '../../src/core/storage-health.ts';

const now = new Date('2026-01-01T12:00:00Z');
const healthy: StorageStats = { tables: [], oldestTransaction: null, walBytes: null };
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);

describe('database health rules', () => {
  it('a transaction open for five minutes or more is named, with how to end it', () => {
    expect(storageWarnings({ ...healthy, oldestTransaction: { ageMs: 299_000, pid: 42, application: 'psql', state: 'idle in transaction' } }, now)).toEqual([]);
    const [warning] = storageWarnings({ ...healthy, oldestTransaction: { ageMs: 12 * 60_000, pid: 42, application: 'psql', state: 'idle in transaction' } }, now);
    expect(warning).toMatchObject({ key: 'transaction', problem: expect.stringContaining('open for 12 min (pid 42, psql, idle in transaction)') });
    expect(warning!.fix).toContain('pg_terminate_backend(42)');
  });

  it('dead rows warn only when they are many, outnumber the live ones and autovacuum has not come for ten minutes', () => {
    const table = (deadRows: number, liveRows: number, lastVacuumAt: Date | null) => ({ ...healthy, tables: [{ name: 'conveyor.tasks', deadRows, liveRows, lastVacuumAt }] });
    expect(storageWarnings(table(49_999, 10, null), now)).toEqual([]);
    expect(storageWarnings(table(80_000, 90_000, null), now)).toEqual([]);
    expect(storageWarnings(table(80_000, 1_000, minutesAgo(3)), now)).toEqual([]);
    const [warning] = storageWarnings(table(80_000, 1_000, minutesAgo(30)), now);
    expect(warning).toMatchObject({ key: 'table:conveyor.tasks', problem: 'conveyor.tasks holds 80,000 dead rows (1,000 live), last vacuumed 30 min ago: claims slow down as they pile up' });
    expect(warning!.fix).toContain('VACUUM conveyor.tasks');
    expect(storageWarnings(table(80_000, 1_000, null), now)[0]!.problem).toContain('last vacuumed never');
  });

  it('a SQLite write-ahead log of 256 MB or more is a warning', () => {
    expect(storageWarnings({ ...healthy, walBytes: 10 * 1024 * 1024 }, now)).toEqual([]);
    expect(storageWarnings({ ...healthy, walBytes: 300 * 1024 * 1024 }, now)).toEqual([expect.objectContaining({ key: 'wal', problem: expect.stringContaining('300 MB') })]);
  });
});
