import { afterEach, beforeEach, describe } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { newTask, type TaskInput } from '../../src/core/new-task.ts';
import type { ClaimedTask, TaskLease, TaskRecord } from '../../src/core/task.ts';
import { createEngine } from '../helpers/create-engine.ts';
import type { Engine } from '../../src/store/engine.ts';
import { testDatabases, useTemplate, type TestDatabase } from '../helpers/databases.ts';

export interface EngineFixture {
  engine: Engine;
  clock: ManualClock;
  db: TestDatabase;
  /** Inserts one task at the clock's now, with defaults for what the test leaves out. */
  insert(input?: Partial<TaskInput>): Promise<TaskRecord>;
  insertMany(count: number, input?: Partial<TaskInput>): Promise<TaskRecord[]>;
  /** Claims for `workerId` (every type used by the tests) with a 30 s lease; each task says who claimed it. */
  claim(limit?: number, workerId?: string, taskTypes?: string[]): Promise<Claimed[]>;
}

/** A claimed task and the worker that claimed it: what a lease is made of. */
export type Claimed = ClaimedTask & { workerId: string };

export const TEST_TYPES = ['email', 'webhook', 'report'];

export function leaseOf(task: Pick<TaskRecord, 'id' | 'currentAttempt' | 'workerId'>): TaskLease {
  return { id: task.id, attempt: task.currentAttempt, workerId: task.workerId! };
}

/**
 * Runs `body` once per engine (SQLite file, PostgreSQL schema), each test on a fresh, migrated database.
 * This is the contract: the same tests, unchanged, against every engine. None is ever skipped.
 */
export function describeEachEngine(title: string, body: (fixture: () => EngineFixture) => void): void {
  describe.each(testDatabases)(`${title} [$kind]`, ({ create }) => {
    let fixture: EngineFixture | undefined;
    beforeEach(async () => {
      const db = create();
      await useTemplate(db);
      const engine = createEngine(db.url);
      await engine.migrate();
      const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
      const insert = async (input: Partial<TaskInput> = {}) =>
        (await engine.taskInsert({ task: newTask({ taskType: 'email', payload: { n: 1 }, ...input }, clock.now()) })).task;
      fixture = {
        engine,
        clock,
        db,
        insert,
        insertMany: async (count, input = {}) => {
          const tasks = Array.from({ length: count }, (_, n) => newTask({ taskType: 'email', payload: { n }, ...input }, clock.now()));
          return (await engine.taskInsertMany({ tasks })).map((result) => result.task);
        },
        claim: async (limit = 10, workerId = 'worker-a', taskTypes = TEST_TYPES) =>
          (await engine.taskClaim({ workerId, taskTypes, limit, now: clock.now(), leaseMs: 30_000 })).map((task) => ({ ...task, workerId })),
      };
    });
    afterEach(async () => {
      if (!fixture) return;
      await fixture.engine.close();
      await fixture.db.drop();
      fixture = undefined;
    });
    body(() => {
      if (!fixture) throw new Error('fixture used outside a test');
      return fixture;
    });
  });
}
