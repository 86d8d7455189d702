import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importTasks, parseTaskLine } from '../../src/cli/task-import.ts';
import { validationError } from '../../src/core/errors.ts';
import type { Engine } from '../../src/store/engine.ts';
import { sqliteTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { listAllTasks, openTestEngine } from '../helpers/task-fixtures.ts';

async function* linesOf(...lines: string[]): AsyncGenerator<string> {
  yield* lines;
}

let db: TestDatabase;
let engine: Engine;
beforeEach(async () => {
  db = sqliteTestDatabase();
  engine = await openTestEngine(db);
});
afterEach(async () => {
  await engine.close();
  await db.drop();
});

describe('importing tasks from JSON lines', () => {
  it('inserts the good lines in batches and reports each bad one with its line number', async () => {
    const seen: number[] = [];
    const result = await importTasks({
      engine,
      lines: linesOf(
        '{"task_type":"email","payload":{"to":"a@example.com"},"priority":"high"}',
        '',
        '{"task_type":"email","payload":{"to":"b@example.com"},"idempotency_key":"k-1"}',
        '{"task_type":"email", oops',
        '{"task_type":"email","payload":{},"priority":"urgent"}',
        '{"task_type":"email","payload":{"to":"c@example.com"},"idempotency_key":"k-1"}',
        '{"tasktype":"email","payload":{}}',
        '[1,2]',
        '{"task_type":"webhook","payload":{"url":"x"},"scheduled_at":"2030-01-01T00:00:00Z","max_attempts":5}',
      ),
      batchSize: 2,
      now: () => new Date(),
      onLine: (r) => seen.push(r.lines),
    });
    expect(seen).toHaveLength(9);
    expect(result.lines).toBe(8);
    expect(result.enqueued).toBe(3);
    expect(result.duplicates).toBe(1);
    expect(result.rejected.map((p) => p.line)).toEqual([4, 5, 7, 8]);
    expect(result.rejected[0]!.message).toMatch(/^not valid JSON/);
    expect(result.rejected[1]).toMatchObject({ field: 'priority', message: expect.stringContaining('priority: must be one of critical, high, normal, low') });
    expect(result.rejected[2]).toMatchObject({ field: 'tasktype', message: expect.stringContaining('tasktype: is not a task field') });
    expect(result.rejected[3]!.message).toContain('must be a JSON object with task_type and payload');
    expect(result.tasks.map((t) => [t.line, t.created])).toEqual([[1, true], [3, true], [6, false], [9, true]]);
    const stored = await listAllTasks(engine);
    expect(stored).toHaveLength(3);
    expect(stored.find((t) => t.taskType === 'webhook')).toMatchObject({ status: 'scheduled', maxAttempts: 5 });
  });

  it('with a task type given, every line is a payload; the validator sees each one', async () => {
    const result = await importTasks({
      engine,
      lines: linesOf('{"to":"a@example.com"}', '{"to":"nope"}'),
      taskType: 'email',
      validate: async (_type, payload) => {
        if (!String((payload as { to: string }).to).includes('@')) throw validationError('payload.to', 'must be an email address');
      },
      batchSize: 500,
      now: () => new Date(),
    });
    expect(result.enqueued).toBe(1);
    expect(result.rejected).toEqual([{ line: 2, field: 'payload.to', message: 'payload.to: must be an email address' }]);
  });

  it('parses a task line in the API\'s snake_case', () => {
    expect(parseTaskLine('{"task_type":"email","payload":{"to":"x"},"metadata":{"a":1},"retry_strategy":{"type":"fixed","interval_ms":5}}', undefined)).toMatchObject({
      taskType: 'email',
      payload: { to: 'x' },
      metadata: { a: 1 },
      retryStrategy: { type: 'fixed', interval_ms: 5 },
    });
    expect(() => parseTaskLine('{"payload":{}}', undefined)).toThrow('is required');
  });
});
