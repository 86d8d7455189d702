import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConveyorClient } from '../../src/index.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The code block that follows the README's `readme-example: <file>` marker, exactly as printed. */
function readmeExample(file: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const marker = readme.indexOf(`<!-- readme-example: ${file}`);
  if (marker < 0) throw new Error(`README.md has no example marked ${file}`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(marker));
  if (!block) throw new Error(`no ts code block after the ${file} marker`);
  return block[1]!;
}

describe.each(testDatabases)('the README custom task type [$kind]', ({ create }) => {
  let db: TestDatabase | undefined;
  let worker: WorkerProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await worker?.kill();
    await db?.drop();
    // Inside the package, so that `import ... from 'conveyor-tasks'` resolves as it does in a user's project.
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is picked up by `conveyor work --tasks` and runs as the README says', async () => {
    db = create();
    dir = mkdtempSync(join(ROOT, 'test', '.tmp-readme-'));
    const file = join(dir, 'tasks', 'greet.ts');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, readmeExample('tasks/greet.ts'));

    worker = startWorker({ databaseUrl: db.url, entry: 'cli', args: ['--tasks', file], env: { CONVEYOR__DATA__DIR: join(dir, 'data') } });
    await worker.started();
    const conveyor = await ConveyorClient.open({ databaseUrl: db.url });
    try {
      const types = await conveyor.engine.typeList();
      const greet = types.find((t) => t.name === 'greet');
      expect(greet).toMatchObject({ description: 'Greets someone, slowly', examples: [{ name: 'Ada' }], timeoutMs: 10_000 });
      expect(greet!.payloadSchema).toMatchObject({ required: ['name'] });

      const { task: ada } = await conveyor.enqueue({ taskType: 'greet', payload: { name: 'Ada', shout: true } });
      const { task: nobody } = await conveyor.enqueue({ taskType: 'greet', payload: { name: 'nobody' } });
      // The client checks the payload against the schema the worker registered, naming the field ...
      await expect(conveyor.enqueue({ taskType: 'greet', payload: { name: '' } })).rejects.toMatchObject({
        code: 'CONVEYOR_VALIDATION',
        field: 'payload.name',
        message: 'payload.name: must not be empty',
      });
      // ... and a task that got past it (a client that skips the check) is refused by the worker.
      const unchecked = await ConveyorClient.open({ databaseUrl: db.url, validate: false });
      const { task: invalid } = await unchecked.enqueue({ taskType: 'greet', payload: { name: '' } });
      await unchecked.close();
      const finished = async (id: string) => {
        const task = await conveyor.get(id);
        return task && ['completed', 'failed'].includes(task.status) ? task : undefined;
      };
      expect(await waitFor(() => finished(ada.id), { message: 'the greet task' })).toMatchObject({
        status: 'completed',
        output: { greeting: 'HELLO, ADA!' },
        progress: { percent: 50, message: 'thinking of a greeting' },
      });
      // PermanentTaskError and a payload that breaks the schema both go straight to the dead letter.
      expect(await waitFor(() => finished(nobody.id))).toMatchObject({ status: 'failed', currentAttempt: 1, lastError: expect.stringContaining('nobody cannot be greeted') });
      expect(await waitFor(() => finished(invalid.id))).toMatchObject({ status: 'failed', currentAttempt: 1, lastError: expect.stringContaining('payload.name') });
      const greeting = worker.lines.find((line) => line.msg === 'greeting');
      expect(greeting).toMatchObject({ task_id: ada.id, task_type: 'greet', attempt: 1, name: 'Ada' });
    } finally {
      await conveyor.close();
    }
  });
});
