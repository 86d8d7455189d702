import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { ConveyorError, ERROR_CODES } from '../../src/core/errors.ts';
import { uuidv7 } from '../../src/core/id.ts';
import { newTask } from '../../src/core/new-task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { CaptureLogger } from '../../src/testing/capture-logger.ts';
import { createEngine } from '../helpers/create-engine.ts';

// The contract suites (claim, lifecycle, worker calls, ...) run on the threaded SQLite engine too
// (describeEachEngine's sqliteThread); these are what only the thread's crossing can break.

const dirs: string[] = [];
const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close().catch(() => {})));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function threadedEngine(logger = new CaptureLogger()): { engine: Engine; logger: CaptureLogger; url: string } {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-thread-'));
  dirs.push(dir);
  const url = `sqlite:${join(dir, 'conveyor.db')}`;
  const engine = createEngine(url, { sqliteThread: true, logger });
  engines.push(engine);
  return { engine, logger, url };
}

const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));

it('brings the engine log lines back to the caller, with their fields', async () => {
  const { engine, logger } = threadedEngine();
  await engine.migrate();
  const applied = logger.entries.filter((entry) => entry.msg === 'applied migration');
  expect(applied.length).toBeGreaterThan(0);
  expect(applied[0]).toMatchObject({ level: 'info', engine: 'sqlite', version: 1 });
});

it('keeps an error its class, code and field', async () => {
  const { engine } = threadedEngine();
  await engine.migrate();
  const user = () => ({ id: uuidv7(), username: 'ada', email: `${uuidv7()}@example.com`, passwordHash: 'x', role: 'user' as const, createdAt: clock.now() });
  await engine.userInsert({ user: user() });
  const error = await engine.userInsert({ user: user() }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConveyorError);
  expect(error).toMatchObject({ code: ERROR_CODES.CONFLICT, field: 'username' });
});

it('answers calls made in one turn each with its own result, in one crossing', async () => {
  const { engine } = threadedEngine();
  await engine.migrate();
  const tasks = Array.from({ length: 50 }, (_, n) => newTask({ taskType: 'email', payload: { n } }, clock.now()));
  const inserted = await Promise.all(tasks.map((task) => engine.taskInsert({ task })));
  expect(inserted.map((result) => result.task.payload)).toEqual(tasks.map((_, n) => ({ n })));
  const claimed = await engine.taskClaim({ workerId: 'w', taskTypes: ['email'], limit: 50, now: clock.now(), leaseMs: 30_000 });
  const completed = await Promise.all(claimed.map((task) => engine.taskComplete({ lease: { id: task.id, attempt: task.currentAttempt, workerId: 'w' }, output: { done: task.id }, now: clock.now() })));
  expect(completed).toEqual(claimed.map(() => true));
  const stats = await engine.taskStats({ now: clock.now() });
  expect(stats.byStatus.completed).toBe(50);
});

it('fails a call whose parameters cannot cross, and only that call', async () => {
  const { engine } = threadedEngine();
  await engine.migrate();
  const good = engine.taskInsert({ task: newTask({ taskType: 'email', payload: { n: 1 } }, clock.now()) });
  const bad = engine.taskGet({ id: uuidv7(), notCloneable: () => 1 } as never);
  await expect(bad).rejects.toMatchObject({ code: ERROR_CODES.VALIDATION });
  await expect(good).resolves.toMatchObject({ created: true });
});

it('passes insert notifications from another process across the thread', async () => {
  const { engine, url } = threadedEngine();
  await engine.migrate();
  const heard: (string | null)[] = [];
  const notified = new Promise<void>((resolve) => {
    void engine.listen({ onInsert: (taskType) => (heard.push(taskType), resolve()) });
  });
  const other = createEngine(url);
  engines.push(other);
  // The listener is subscribed once listen() resolved; an insert on another connection wakes it.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await other.taskInsert({ task: newTask({ taskType: 'report', payload: {} }, clock.now()) });
  await notified;
  expect(heard.length).toBeGreaterThan(0);
});

it('refuses calls after close, as the engine on the caller thread does', async () => {
  const { engine } = threadedEngine();
  await engine.migrate();
  await engine.close();
  await expect(engine.taskStats({ now: clock.now() })).rejects.toMatchObject({ code: ERROR_CODES.CLOSED });
});
