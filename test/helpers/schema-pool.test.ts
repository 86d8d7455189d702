import { expect, it } from 'vitest';
import { newTask } from '../../src/core/new-task.ts';
import { createEngine } from './create-engine.ts';
import { postgresTestDatabase, useTemplate, type TestDatabase } from './databases.ts';
import { rawExec } from './raw-exec.ts';

/** The test suite's own machinery: a PostgreSQL schema taken from the run's pool must behave like a freshly migrated one. */
async function useTwice(first: (db: TestDatabase) => Promise<void>): Promise<TestDatabase> {
  const db = postgresTestDatabase();
  await useTemplate(db);
  const engine = createEngine(db.url);
  await engine.migrate();
  await first(db);
  await engine.close();
  await db.drop();
  const next = postgresTestDatabase();
  await useTemplate(next);
  return next;
}

it('a recycled schema is empty, fully migrated, and its insert trigger wakes listeners on its own channel', async () => {
  // Enough rounds that schemas given back are taken again (the pool is shared by the run's test processes).
  for (let round = 0; round < 3; round++) {
    const db = await useTwice(async (used) => {
      const engine = createEngine(used.url);
      await engine.taskInsert({ task: newTask({ taskType: 'email', payload: {} }, new Date()) });
      await engine.close();
    });
    const engine = createEngine(db.url);
    const listenerEngine = createEngine(db.url);
    try {
      expect((await engine.migrate()).applied).toEqual([]);
      expect((await engine.taskStats({ now: new Date() })).total).toBe(0);
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      const listener = await listenerEngine.listen({ onInsert: () => wake() });
      await engine.taskInsert({ task: newTask({ taskType: 'email', payload: {} }, new Date()) });
      await woken;
      await listener.close();
    } finally {
      await listenerEngine.close();
      await engine.close();
      await db.drop();
    }
  }
});

it('a schema a test changed is dropped, not given to the next test', async () => {
  const db = await useTwice((used) => rawExec(used, 'DELETE FROM conveyor_migrations WHERE version >= 2'));
  const engine = createEngine(db.url);
  try {
    // Whatever the next test gets (a pooled schema or a fresh one), it is at the latest version.
    const status = await engine.migrationStatus();
    if (status.current !== 0) expect(status.pending).toEqual([]);
  } finally {
    await engine.close();
    await db.drop();
  }
});
