import { mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { JsonValue } from '../../src/core/task.ts';
import { createBuiltinTasks } from '../../src/tasks/builtin/builtin-tasks.ts';
import { runTask } from '../../src/testing/run-task.ts';
import { testDatabases } from '../helpers/databases.ts';
import { claimOne, createTask, registerTypes, startApi, type Account, type ApiHarness } from './api-harness.ts';

describe.each(testDatabases)('GET /tasks/:id/artifact [$kind]', ({ create }) => {
  let api: ApiHarness;
  let alice: Account;
  let bob: Account;
  let moderator: Account;
  let dir: string;
  let reportsDir: string;
  const report = () =>
    createBuiltinTasks({
      dataDir: dir,
      email: { from: 'conveyor@example.com', outboxDir: join(dir, 'outbox') },
      webhook: { secret: '', allowHosts: [], timeoutMs: 1000 },
      fileCleanup: { roots: [] },
      reports: { artifactsDir: reportsDir, sources: [] },
    } as never).find((definition) => definition.name === 'report_generation')!;

  /** A task of the caller's that a worker finished with `output`. */
  const finished = async (owner: Account, output: JsonValue) => {
    const task = await createTask(api, owner.token, { task_type: 'artifact_report', payload: {} });
    const { lease } = await claimOne(api, 'artifact_report');
    expect(await api.engine.taskComplete({ lease, output, now: api.clock.now() })).toBe(true);
    return task.id as string;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'conveyor-artifact-'));
    reportsDir = join(dir, 'reports');
    api = await startApi(create(), { reports: { artifactsDir: reportsDir } });
    await registerTypes(api, 'artifact_report');
    [alice, bob, moderator] = [await api.account(), await api.account(), await api.account('moderator')];
  });
  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('serves the report a task wrote to its owner and to moderators, as a download of the right type', async () => {
    const task = await createTask(api, alice.token, { task_type: 'artifact_report', payload: {} });
    const { lease } = await claimOne(api, 'artifact_report');
    // The real handler writes the real file.
    const run = await runTask(report(), { report_type: 'sales', start_date: '2024-01-01', end_date: '2024-01-03' }, { taskId: task.id });
    expect(run.status).toBe('completed');
    await api.engine.taskComplete({ lease, output: run.output, now: api.clock.now() });
    const file = (run.output as { path: string; file: string }).file;

    for (const path of [`/tasks/${task.id}/artifact`, `/api/v1/tasks/${task.id}/artifact`]) {
      const owned = await api.call('GET', path, { token: alice.token });
      expect(owned.status).toBe(200);
      expect(owned.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(owned.headers.get('content-disposition')).toBe(`attachment; filename="${file}"`);
      expect(owned.text).toBe(readFileSync(join(reportsDir, file), 'utf8'));
      expect(owned.text.split('\n').length).toBeGreaterThan(3);
    }
    expect((await api.call('GET', `/tasks/${task.id}/artifact`, { token: moderator.token })).status).toBe(200);
    // Another user's task answers like a missing one; no token is 401.
    const other = await api.call('GET', `/tasks/${task.id}/artifact`, { token: bob.token });
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
    expect((await api.call('GET', `/tasks/${task.id}/artifact`)).status).toBe(401);
  });

  test('404 for a task with no file: waiting, output without one, or a file since deleted', async () => {
    const waiting = await createTask(api, alice.token, { task_type: 'email' });
    const noFile = await finished(alice, { rows: 3 });
    writeFileSync(join(reportsDir, 'gone.csv'), 'a,b\n');
    const gone = await finished(alice, { file: 'gone.csv' });
    expect((await api.call('GET', `/tasks/${gone}/artifact`, { token: alice.token })).status).toBe(200);
    unlinkSync(join(reportsDir, 'gone.csv'));
    for (const id of [waiting.id, noFile, gone, '01900000-0000-7000-8000-000000000000']) {
      const response = await api.call('GET', `/tasks/${id}/artifact`, { token: alice.token });
      expect(response.status, id).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
    expect((await api.call('GET', '/tasks/not-a-uuid/artifact', { token: alice.token })).body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'id' });
  });

  test('never serves a file outside the reports folder, whatever the task output says', async () => {
    const secret = join(dir, 'secret.txt');
    writeFileSync(secret, 'top secret');
    symlinkSync(secret, join(reportsDir, 'link.csv'));
    const tricks: JsonValue[] = [
      { file: '../secret.txt' },
      { file: secret },
      { file: 'link.csv' },
      { file: '.' },
      { file: '' },
      { file: 42 },
      { path: secret },
    ];
    for (const output of tricks) {
      const id = await finished(alice, output);
      const response = await api.call('GET', `/tasks/${id}/artifact`, { token: alice.token });
      expect(response.status, JSON.stringify(output)).toBe(404);
      expect(response.text).not.toContain('top secret');
    }
  });
});
