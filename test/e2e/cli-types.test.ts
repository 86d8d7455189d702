import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTask } from '../../src/core/new-task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { cliSandbox, openSandboxEngine, runCli, runCliJson, type CliSandbox } from './cli-helpers.ts';

/** `conveyor types ...` as real processes on a temporary SQLite database. */
let box: CliSandbox;
let engine: Engine;

beforeAll(async () => {
  box = cliSandbox();
  engine = await openSandboxEngine(box);
  const now = new Date();
  await engine.typeRegister({ type: { name: 'webhook', description: 'Calls a URL', payloadSchema: null, examples: [], timeoutMs: 30_000 }, now });
  await engine.taskInsertMany({ tasks: [1, 2, 3].map((n) => newTask({ taskType: 'webhook', payload: { n } }, now)) });
});
afterAll(async () => {
  await engine?.close();
  box?.remove();
});

describe('conveyor types', () => {
  it('pauses a type with a reason, lists it with its waiting tasks, and resumes it', async () => {
    const paused = await runCli(['types', 'pause', 'webhook', '--reason', 'partner API down until 15:00'], { env: box.env });
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/^Paused webhook \(since \S+: partner API down until 15:00\)\. Resume: conveyor types resume webhook$/m);
    expect(await engine.typePauseList()).toEqual([expect.objectContaining({ taskType: 'webhook', reason: 'partner API down until 15:00', pausedBy: null })]);

    const list = await runCli(['types'], { env: box.env });
    expect(list.stdout).toMatch(/webhook\s+paused .* ago\s+0\s+-\s+3\s+.*partner API down until 15:00/);
    const json = await runCliJson(['types', 'list', '--json'], { env: box.env });
    expect(json.data).toEqual({ items: [expect.objectContaining({ task_type: 'webhook', paused: true, waiting: 3, reason: 'partner API down until 15:00' })], total: 1, next_cursor: null });

    expect((await runCli(['types', 'resume', 'webhook'], { env: box.env })).stdout).toContain('Resumed webhook.');
    expect((await runCli(['types', 'resume', 'webhook'], { env: box.env })).stdout).toContain('webhook was not paused; nothing changed.');
    expect(await engine.typePauseList()).toEqual([]);
  });

  it('a type no worker registered yet can be paused ahead, with a note; a malformed name is a usage error', async () => {
    const ahead = await runCli(['types', 'pause', 'sms'], { env: box.env });
    expect(ahead.code).toBe(0);
    expect(ahead.stdout).toContain('no worker has registered sms yet');
    expect((await runCliJson(['types', '--json'], { env: box.env })).data.items.map((t: { task_type: string }) => t.task_type)).toEqual(['sms', 'webhook']);
    const bad = await runCli(['types', 'pause', 'not a type'], { env: box.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"not a type" is not a task type name');
  });
  it('limits a type across every worker and removes the limit; the list shows it', async () => {
    const limited = await runCli(['types', 'limit', 'webhook', '2'], { env: box.env });
    expect(limited.stdout).toContain('At most 2 webhook tasks will run at once, across every worker');
    expect(await engine.typeLimitList()).toEqual([expect.objectContaining({ taskType: 'webhook', maxRunning: 2 })]);
    const json = await runCliJson(['types', '--json'], { env: box.env });
    expect(json.data.items.find((t: { task_type: string }) => t.task_type === 'webhook')).toMatchObject({ max_running: 2, running: 0 });
    const bad = await runCli(['types', 'limit', 'webhook', '0'], { env: box.env });
    expect(bad.code).toBe(2);
    expect((await runCli(['types', 'limit', 'webhook', 'none'], { env: box.env })).stdout).toContain('webhook has no concurrency limit.');
    expect(await engine.typeLimitList()).toEqual([]);
  });
});
