import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEngineReportSources } from '../../src/cli/report-sources.ts';
import { createReportGenerationTask } from '../../src/tasks/builtin/report-generation.ts';
import { describeEachEngine, leaseOf } from '../contract/engine-fixture.ts';
import { taskContext } from './builtin-context.ts';

const USER_1 = '0190a4c2-0000-7000-8000-000000000001';
const USER_2 = '0190a4c2-0000-7000-8000-000000000002';
let artifacts: string;
beforeAll(() => {
  artifacts = mkdtempSync(join(tmpdir(), 'conveyor-report-sources-'));
});
afterAll(() => rmSync(artifacts, { recursive: true, force: true }));

describeEachEngine('report sources over the engine', (fixture) => {
  /**
   * Day 1 (2026-01-01): 3 emails (2 completed after 1.5 s, 1 pending) and 2 webhooks (1 dead-lettered
   * with "boom", 1 pending) by user-1. Day 2: 1 email by user-2, pending.
   */
  async function seed(): Promise<void> {
    const { engine, clock, insert, claim } = fixture();
    for (const [id, username] of [[USER_1, 'one'], [USER_2, 'two']] as const) {
      await engine.userInsert({ user: { id, username, email: `${username}@example.com`, passwordHash: 'x', role: 'user', createdAt: clock.now() } });
    }
    for (let i = 0; i < 3; i++) await insert({ taskType: 'email', createdBy: USER_1 });
    for (let i = 0; i < 2; i++) await insert({ taskType: 'webhook', createdBy: USER_1 });
    clock.advance(1000);
    const emails = await claim(2, 'w', ['email']);
    const [hook] = await claim(1, 'w', ['webhook']);
    clock.advance(1500);
    for (const task of emails) expect(await engine.taskComplete({ lease: leaseOf(task), output: null, now: clock.now() })).toBe(true);
    expect(await engine.taskFail({ lease: leaseOf(hook!), error: 'boom', permanent: true, now: clock.now() })).toMatchObject({ applied: true, status: 'failed' });
    clock.advance(24 * 3_600_000);
    await insert({ taskType: 'email', createdBy: USER_2 });
  }

  async function report(type: string, createdBy: string | null = null) {
    const task = createReportGenerationTask({ artifactsDir: artifacts, sources: createEngineReportSources(fixture().engine) }, fixture().clock);
    const output = (await task.handler({ report_type: type, start_date: '2026-01-01', end_date: '2026-01-02', format: 'json' }, taskContext({ createdBy }))) as { path: string };
    return JSON.parse(readFileSync(output.path, 'utf8')).rows as Record<string, unknown>[];
  }

  it('task_activity counts tasks per day and type, scoped to the requesting user', async () => {
    await seed();
    expect(await report('task_activity')).toEqual([
      { date: '2026-01-01', task_type: 'email', created: 3, completed: 2, failed: 0, cancelled: 0, open: 1, attempts: 2 },
      { date: '2026-01-01', task_type: 'webhook', created: 2, completed: 0, failed: 1, cancelled: 0, open: 1, attempts: 1 },
      { date: '2026-01-02', task_type: 'email', created: 1, completed: 0, failed: 0, cancelled: 0, open: 1, attempts: 0 },
    ]);
    expect(await report('task_activity', USER_2)).toEqual([
      { date: '2026-01-02', task_type: 'email', created: 1, completed: 0, failed: 0, cancelled: 0, open: 1, attempts: 0 },
    ]);
  });

  it('failure_reasons and durations read the dead letter and the completed tasks', async () => {
    await seed();
    expect(await report('failure_reasons')).toEqual([
      { task_type: 'webhook', reason: 'boom', tasks: 1, first_created: '2026-01-01T12:00:00.000Z', last_created: '2026-01-01T12:00:00.000Z' },
    ]);
    expect(await report('durations')).toEqual([{ task_type: 'email', completed: 2, mean_ms: 1500, p50_ms: 1500, p95_ms: 1500, max_ms: 1500 }]);
    expect(await report('durations', USER_2)).toEqual([]);
  });
});
