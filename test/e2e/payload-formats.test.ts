import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConveyorClient } from '../../src/index.ts';
import { startApi, type ApiHarness } from '../api/api-harness.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A user's task module whose schema uses string formats (issue 13: workers did not know them), and
 * that leaves out its description (which once ended in SQLite's NOT NULL error at registration).
 */
const WELCOME_MODULE = `
import { defineTask, Type } from 'conveyor-tasks';

export const welcome = defineTask({
  name: 'welcome',
  payload: Type.Object({
    to: Type.String({ format: 'email' }),
    since: Type.String({ format: 'date-time' }),
    site: Type.Optional(Type.String({ format: 'uri' })),
  }),
  async handler(payload) {
    return { welcomed: payload.to, since: payload.since };
  },
});
`;

describe.each(testDatabases)('a task type with string formats [$kind]', ({ create }) => {
  let db: TestDatabase | undefined;
  let worker: WorkerProcess | undefined;
  let api: ApiHarness | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await worker?.kill();
    if (api) await api.close();
    else await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is accepted by the API and the client, and runs to completion on a real worker; a bad address is refused at the door in words', async () => {
    db = create();
    dir = mkdtempSync(join(ROOT, 'test', '.tmp-formats-'));
    const file = join(dir, 'tasks', 'welcome.ts');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, WELCOME_MODULE);
    worker = startWorker({ databaseUrl: db.url, entry: 'cli', args: ['--tasks', file], env: { CONVEYOR__DATA__DIR: join(dir, 'data') } });
    await worker.started();

    const conveyor = await ConveyorClient.open({ databaseUrl: db.url });
    try {
      expect((await conveyor.engine.typeList()).find((type) => type.name === 'welcome')).toMatchObject({ description: '' });
      const payload = { to: 'ada@example.com', since: '2026-01-31T12:00:00Z', site: 'https://example.com/welcome' };
      const { task: fromClient } = await conveyor.enqueue({ taskType: 'welcome', payload });
      await expect(conveyor.enqueue({ taskType: 'welcome', payload: { ...payload, to: 'ada' } })).rejects.toMatchObject({
        code: 'CONVEYOR_VALIDATION',
        field: 'payload.to',
        message: 'payload.to: must be an email address',
      });
      await expect(conveyor.enqueueMany([{ taskType: 'welcome', payload }, { taskType: 'welcome', payload: { ...payload, since: 'yesterday' } }])).rejects.toMatchObject({
        field: 'tasks[1].payload.since',
      });
      await expect(conveyor.enqueue({ taskType: 'welcom', payload })).rejects.toMatchObject({ field: 'task_type', message: expect.stringMatching(/^task_type: "welcom" is not a registered task type; registered: .*welcome/) });

      api = await startApi(db);
      const user = await api.account();
      const created = await api.call('POST', '/tasks', { token: user.token, body: { task_type: 'welcome', payload } });
      expect(created.status, created.text).toBe(201);
      const refused = await api.call('POST', '/tasks', { token: user.token, body: { task_type: 'welcome', payload: { ...payload, to: 'ada' } } });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toEqual({ code: 'VALIDATION_FAILED', message: 'payload.to: must be an email address', field: 'payload.to' });

      const finished = async (id: string) => {
        const task = await conveyor.get(id);
        return task && ['completed', 'failed'].includes(task.status) ? task : undefined;
      };
      for (const id of [fromClient.id, created.body.data.id as string]) {
        expect(await waitFor(() => finished(id), { message: `welcome task ${id}` })).toMatchObject({
          status: 'completed',
          currentAttempt: 1,
          output: { welcomed: 'ada@example.com', since: '2026-01-31T12:00:00Z' },
        });
      }
    } finally {
      await conveyor.close();
    }
  });
});
