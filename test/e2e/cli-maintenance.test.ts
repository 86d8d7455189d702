import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTask } from '../../src/core/new-task.ts';
import type { TaskRecord } from '../../src/core/task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { listAllTasks } from '../helpers/task-fixtures.ts';
import { cliSandbox, openSandboxEngine, runCli, runCliJson, runCliOnTerminal, type CliSandbox } from './cli-helpers.ts';

/** `conveyor dead-letter`, `prune` and `workers` as real processes; the state is set up through the engine. */
let box: CliSandbox;
let engine: Engine;

/** Inserts a task `ageMs` old and takes it through a claim to the end given. */
async function finished(taskType: string, end: 'failed' | 'completed', ageMs = 0): Promise<TaskRecord> {
  const at = new Date(Date.now() - ageMs);
  const { task } = await engine.taskInsert({ task: newTask({ taskType, payload: {}, maxAttempts: 1 }, at) });
  await engine.taskClaim({ workerId: 'w-setup', taskTypes: [taskType], limit: 1, now: at, leaseMs: 60_000 });
  const lease = { id: task.id, attempt: 1, workerId: 'w-setup' };
  if (end === 'failed') await engine.taskFail({ lease, error: `${taskType}: upstream said 503`, now: at });
  else await engine.taskComplete({ lease, output: null, now: at });
  return (await engine.taskGet({ id: task.id }))!;
}

beforeAll(async () => {
  box = cliSandbox();
  engine = await openSandboxEngine(box);
});
afterAll(async () => {
  await engine?.close();
  box?.remove();
});

describe('conveyor dead-letter', () => {
  it('lists dead-letter tasks with their errors, retries them by type, and purges only with --yes', async () => {
    const emails = [await finished('email', 'failed'), await finished('email', 'failed')];
    const webhook = await finished('webhook', 'failed', 3 * 86_400_000);
    await finished('email', 'completed');

    // `dead-letter` alone lists, as `schedules` and `types` do.
    const [listed, human] = await Promise.all([runCliJson(['dead-letter'], { env: box.env }), runCli(['dead-letter', 'list', '--type', 'webhook'], { env: box.env })]);
    expect(listed.code).toBe(0);
    expect(listed.data.total).toBe(3);
    expect(listed.data.next_cursor).toBeNull();
    expect(listed.data.items.map((t: { id: string }) => t.id).sort()).toEqual([...emails.map((t) => t.id), webhook.id].sort());
    expect(human.stdout).toContain(webhook.id);
    expect(human.stdout).toContain('webhook: upstream said 503');
    expect(human.stdout).not.toContain(emails[0]!.id);

    const retried = await runCli(['dead-letter', 'retry-all', '--type', 'email'], { env: box.env });
    expect(retried.code).toBe(0);
    expect(retried.stdout).toBe('Retried 2 dead-letter tasks of type email.\n');
    for (const t of emails) expect((await engine.taskGet({ id: t.id }))?.status).toBe('pending');

    const dry = await runCliJson(['dead-letter', 'purge', '--older-than', '1d', '--dry-run'], { env: box.env });
    expect(dry.data).toEqual({ would_delete: 1 });
    const refused = await runCli(['dead-letter', 'purge', '--older-than', '1d'], { env: box.env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('conveyor: 1 dead-letter task older than 1d would be deleted: not deleted without confirmation; add --yes to delete (there is no terminal to ask on)\n');
    expect(await engine.taskGet({ id: webhook.id })).not.toBeNull();

    const purged = await runCliJson(['dead-letter', 'purge', '--yes'], { env: box.env });
    expect(purged.data).toEqual({ deleted: 1 });
    expect(await engine.taskGet({ id: webhook.id })).toBeNull();
    expect((await runCli(['dead-letter', 'list'], { env: box.env })).stdout).toBe('The dead letter is empty.\n');
  });
});

describe('conveyor prune', () => {
  it('counts with --dry-run, then deletes finished tasks older than the cutoff when told --yes', async () => {
    const old = [await finished('report', 'completed', 40 * 86_400_000), await finished('report', 'failed', 35 * 86_400_000)];
    const recent = await finished('report', 'completed', 60_000);
    const dry = await runCliJson(['prune', '--older-than', '30d', '--dry-run'], { env: box.env });
    expect(dry.data.would_delete).toBe(2);
    expect((await listAllTasks(engine, { taskType: ['report'] })).length).toBe(3);

    // No terminal (cron, a script): nothing goes without --yes, and the message says how many would.
    const refused = await runCli(['prune', '--older-than', '30d'], { env: box.env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^conveyor: 2 finished tasks finished more than 30d 00h ago \(before \S+\) would be deleted: not deleted without confirmation; add --yes to delete/);
    expect((await listAllTasks(engine, { taskType: ['report'] })).length).toBe(3);

    const pruned = await runCli(['prune', '--older-than', '30d', '--yes'], { env: box.env });
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/^Deleted 2 finished tasks that finished more than 30d 00h ago/);
    for (const t of old) expect(await engine.taskGet({ id: t.id })).toBeNull();
    expect(await engine.taskGet({ id: recent.id })).not.toBeNull();

    // worker.retention_ms is the default cutoff; 0 means keep forever, so a cutoff must be given.
    const forever = await runCli(['prune'], { env: { ...box.env, CONVEYOR__WORKER__RETENTION_MS: '0' } });
    expect(forever.code).toBe(2);
    expect(forever.stderr).toContain('--older-than');
  });

  it('refuses a bare number: --older-than 7 is not 7 seconds, nor 7 days', async () => {
    const done = await finished('report', 'completed', 60_000);
    const bare = await runCli(['prune', '--older-than', '7', '--yes'], { env: box.env });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toBe('conveyor: --older-than needs a unit: 7d, 7h, 7m or 7s (a bare number is ambiguous); got "7"\n');
    const purge = await runCli(['dead-letter', 'purge', '--older-than', '7', '--yes'], { env: box.env });
    expect(purge.code).toBe(2);
    expect(purge.stderr).toContain('--older-than needs a unit');
    expect(await engine.taskGet({ id: done.id })).not.toBeNull();
  });

  it('on a terminal, says how many tasks would go and deletes only when the answer is yes', async () => {
    const stale = await finished('archive', 'completed', 10 * 86_400_000);
    const question = '1 finished task finished more than 7d 00h ago';
    const no = await runCliOnTerminal(['prune', '--older-than', '7d'], { env: box.env, answers: [['Delete? [y/N]', 'n']] });
    expect(no.screen).toContain(question);
    expect(no.screen).toContain('conveyor: nothing was deleted');
    expect(no.code).toBe(1);
    expect(await engine.taskGet({ id: stale.id })).not.toBeNull();

    const yes = await runCliOnTerminal(['prune', '--older-than', '7d'], { env: box.env, answers: [['Delete? [y/N]', 'y']] });
    expect(yes.code).toBe(0);
    expect(yes.screen).toContain('Deleted 1 finished task that finished more than 7d 00h ago');
    expect(await engine.taskGet({ id: stale.id })).toBeNull();
  });
});

describe('conveyor workers', () => {
  it('shows live and stopped workers by their heartbeat', async () => {
    const now = new Date();
    const base = { host: 'box-1', concurrency: 8, running: 2, taskTypes: ['email', 'webhook'] };
    await engine.workerHeartbeat({ worker: { ...base, id: 'box-1:100:aaa', pid: 100, startedAt: now }, now });
    const old = new Date(now.getTime() - 10 * 60_000);
    await engine.workerHeartbeat({ worker: { ...base, id: 'box-1:200:bbb', pid: 200, startedAt: old }, now: old });
    const [json, table] = await Promise.all([runCliJson(['workers'], { env: box.env }), runCli(['workers'], { env: box.env })]);
    expect(json.data).toEqual({
      items: [
        expect.objectContaining({ id: 'box-1:200:bbb', live: false, pid: 200 }),
        expect.objectContaining({ id: 'box-1:100:aaa', live: true, running: 2, concurrency: 8, task_types: ['email', 'webhook'] }),
      ],
      total: 2,
      next_cursor: null,
    });
    expect(table.stdout).toMatch(/^box-1:100:aaa\s+live\s+box-1\s+100\s+2\/8\s+email,webhook/m);
    expect(table.stdout).toMatch(/^box-1:200:bbb\s+stopped\s/m);
    expect(table.stdout).toContain('1 live, 1 stopped');
  });
});
