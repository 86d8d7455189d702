import { newTask, type TaskInput } from '../../src/core/new-task.ts';
import type { TaskRecord, TaskStatus } from '../../src/core/task.ts';
import { createEngine } from './create-engine.ts';
import type { Engine } from '../../src/store/engine.ts';
import { useTemplate, type TestDatabase } from './databases.ts';

/** An engine on a test database, migrated (a copy of the run's template when the database is new). */
export async function openTestEngine(db: TestDatabase): Promise<Engine> {
  await useTemplate(db);
  const engine = createEngine(db.url);
  await engine.migrate();
  return engine;
}

/** Retries right away, so tests never wait on backoff. */
export const IMMEDIATE_RETRY = { type: 'fixed', interval_ms: 0, jitter: 0 } as const;

/** Inserts tasks in chunks (one transaction each); returns them in input order. */
export async function insertTasks(engine: Engine, inputs: TaskInput[], chunk = 1000): Promise<TaskRecord[]> {
  const out: TaskRecord[] = [];
  for (let i = 0; i < inputs.length; i += chunk) {
    const now = new Date();
    const tasks = inputs.slice(i, i + chunk).map((input, j) => newTask(input, now, `tasks[${i + j}]`));
    const results = await engine.taskInsertMany({ tasks });
    out.push(...results.map((r) => r.task));
  }
  return out;
}

/** Every task (optionally of some statuses), all pages. */
export async function listAllTasks(engine: Engine, filter: { status?: TaskStatus[]; taskType?: string[] } = {}): Promise<TaskRecord[]> {
  const all: TaskRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await engine.taskList({ ...filter, limit: 1000, ...(cursor ? { cursor } : {}) });
    all.push(...page.tasks);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

export async function countByStatus(engine: Engine): Promise<Record<TaskStatus, number>> {
  return (await engine.taskStats({ now: new Date() })).byStatus;
}

/** The real engine with its claims counted: a spy that delegates, not a fake. */
export function countingClaims(engine: Engine): { engine: Engine; claims(): number } {
  let claims = 0;
  const counting: Engine = new Proxy(engine, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key === 'taskClaim') return (p: Parameters<Engine['taskClaim']>[0]) => ((claims += 1), target.taskClaim(p));
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { engine: counting, claims: () => claims };
}
