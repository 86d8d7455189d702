import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTask } from '../../src/core/new-task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { listAllTasks } from '../helpers/task-fixtures.ts';
import { cliSandbox, openSandboxEngine, runCli, runCliJson, type CliSandbox } from './cli-helpers.ts';

/** `conveyor enqueue`, `tasks ...` and `stats` as real processes on a temporary SQLite database. */
let box: CliSandbox;
let engine: Engine;
const email = (to: string) => JSON.stringify({ to, subject: 'Hello', body: 'Hi there' });

beforeAll(async () => {
  box = cliSandbox();
  engine = await openSandboxEngine(box);
});
afterAll(async () => {
  await engine?.close();
  box?.remove();
});

describe('conveyor enqueue', () => {
  it('enqueues one task from flags, as the API would', async () => {
    const made = await runCli(['enqueue', 'email', '--payload', email('ada@example.com'), '--priority', 'high', '--max-attempts', '5', '--metadata', '{"source":"cli"}'], { env: box.env });
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    const id = /^Enqueued email task (\S+) \(pending, priority high\)\.$/m.exec(made.stdout)?.[1];
    expect(id).toBeDefined();
    expect(await engine.taskGet({ id: id! })).toMatchObject({ taskType: 'email', priority: 'high', maxAttempts: 5, metadata: { source: 'cli' }, payload: { to: 'ada@example.com' } });
  });

  it('schedules, deduplicates by idempotency key, and prints JSON for scripts', async () => {
    const args = ['enqueue', 'email', '--payload', email('bob@example.com'), '--scheduled-at', '+10m', '--idempotency-key', 'welcome-bob'];
    const first = await runCliJson(args, { env: box.env });
    expect(first.code).toBe(0);
    expect(first.data).toMatchObject({ created: true, task: { status: 'scheduled', idempotency_key: 'welcome-bob' } });
    expect(Date.parse(first.data.task.run_at) - Date.now()).toBeGreaterThan(9 * 60_000);
    const again = await runCli(args, { env: box.env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`exists already: ${first.data.task.id}`);
  });

  it('refuses invalid input with exit 2, naming the field or listing the known task types', async () => {
    const [badPayload, unknownType, badJson, badPriority] = await Promise.all([
      runCli(['enqueue', 'email', '--payload', '{"to":"ada@example.com"}'], { env: box.env }),
      runCli(['enqueue', 'no_such_type'], { env: box.env }),
      runCli(['enqueue', 'email', '--payload', '{to:'], { env: box.env }),
      runCli(['enqueue', 'email', '--payload', email('a@example.com'), '--priority', 'urgent'], { env: box.env }),
    ]);
    expect(badPayload.code).toBe(2);
    expect(badPayload.stderr).toMatch(/payload\.subject|payload: /);
    expect(unknownType.code).toBe(2);
    expect(unknownType.stderr).toContain('"no_such_type" is not a registered task type; registered: ');
    expect(unknownType.stderr).toContain('email');
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain('--payload is not valid JSON');
    expect(badPriority.code).toBe(2);
    expect(badPriority.stderr).toContain('priority: must be one of critical, high, normal, low');
  });

  it('enqueues a JSON-lines file in batches; a bad line is reported by number and the good ones still go in', async () => {
    const file = join(box.dir, 'tasks.jsonl');
    writeFileSync(
      file,
      [
        `{"task_type":"email","payload":${email('one@example.com')},"priority":"low"}`,
        `{"task_type":"email","payload":${email('two@example.com')}}`,
        `{"task_type":"email","payload":{"to":"three@example.com"}}`,
        '',
        `{"task_type":"delay_task","payload":{"delay_ms":1}}`,
        'not json at all',
      ].join('\n') + '\n',
    );
    const before = (await listAllTasks(engine)).length;
    const result = await runCli(['enqueue', '--file', file, '--batch-size', '2'], { env: box.env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:3: payload`);
    expect(result.stderr).toContain(`${file}:6: not valid JSON`);
    expect(result.stdout).toContain(`Enqueued 3 of 5 tasks from ${file}; rejected 2 lines (listed above).`);
    expect((await listAllTasks(engine)).length).toBe(before + 3);

    const payloads = join(box.dir, 'payloads.jsonl');
    writeFileSync(payloads, `${email('p1@example.com')}\n${email('p2@example.com')}\n`);
    const typed = await runCliJson(['enqueue', 'email', '--file', payloads], { env: box.env });
    expect(typed.code).toBe(0);
    expect(typed.data).toMatchObject({ lines: 2, enqueued: 2, duplicates: 0, rejected: [] });
    expect((await engine.taskGet({ id: typed.data.tasks[1].id }))?.payload).toMatchObject({ to: 'p2@example.com' });
  });
});

describe('conveyor tasks', () => {
  it('lists with filters, shows one by a short id, and exits 3 for an unknown one', async () => {
    const listed = await runCliJson(['tasks', 'list', '--type', 'email', '--status', 'pending,scheduled', '--limit', '3'], { env: box.env });
    expect(listed.code).toBe(0);
    expect(listed.data.items).toHaveLength(3);
    expect(listed.data.total).toBeGreaterThan(3);
    expect(listed.data.next_cursor).toEqual(expect.any(String));
    const next = await runCliJson(['tasks', 'list', '--type', 'email', '--limit', '3', '--cursor', listed.data.next_cursor], { env: box.env });
    expect(next.data.items[0].id < listed.data.items[2].id).toBe(true);
    // `tasks` alone lists, as `schedules` and `types` do.
    const bare = await runCliJson(['tasks', '--type', 'email', '--status', 'pending,scheduled', '--limit', '3'], { env: box.env });
    expect(bare.code).toBe(0);
    const ids = (data: { items: { id: string }[] }) => data.items.map((t) => t.id);
    expect(ids(bare.data)).toEqual(ids(listed.data));

    const human = await runCli(['tasks', 'list', '--limit', '2'], { env: box.env });
    expect(human.stdout).toMatch(/^ID\s+TYPE\s+STATUS\s+PRIORITY\s+ATTEMPT\s+CREATED\s+LAST ERROR$/m);
    expect(human.stdout).toMatch(/2 shown of \d+ matching\.\nMore: add --cursor \S+/);

    const id: string = listed.data.items[0].id;
    const shown = await runCli(['tasks', 'show', id.slice(0, 30)], { env: box.env });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`Task ${id}`);
    expect(shown.stdout).toMatch(/payload\s+\{"to":/);
    const json = await runCliJson(['tasks', 'show', id], { env: box.env });
    expect(json.data).toMatchObject({ id, attempts: [], retry_strategy: { type: 'exponential' } });

    const missing = await runCli(['tasks', 'show', '0000aaaa-0000-7000-8000-000000000000'], { env: box.env });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no task 0000aaaa-0000-7000-8000-000000000000');
    const invalid = await runCli(['tasks', 'show', 'xyz'], { env: box.env });
    expect(invalid.code).toBe(2);
  });

  it('cancel, retry and delete say what happened to each id; the worst outcome sets the exit code', async () => {
    const { data } = await runCliJson(['enqueue', 'email', '--payload', email('cancel@example.com')], { env: box.env });
    const id: string = data.task.id;

    const deleteEarly = await runCli(['tasks', 'delete', id], { env: box.env });
    expect(deleteEarly.code).toBe(4);
    expect(deleteEarly.stdout).toContain(`${id}: not deleted: it has not finished`);

    const cancelled = await runCli(['tasks', 'cancel', id], { env: box.env });
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toBe(`${id}: cancelled\n`);
    expect((await engine.taskGet({ id }))?.status).toBe('cancelled');

    const twice = await runCliJson(['tasks', 'cancel', id, '0000aaaa-0000-7000-8000-000000000000'], { env: box.env });
    expect(twice.code).toBe(4);
    expect(twice.data).toEqual({
      items: [
        { id, outcome: 'not_cancellable', status: 'cancelled' },
        { id: '0000aaaa-0000-7000-8000-000000000000', outcome: 'not_found', status: null },
      ],
    });

    const retried = await runCli(['tasks', 'retry', id], { env: box.env });
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain(`${id}: queued again`);
    expect((await engine.taskGet({ id }))?.status).toBe('pending');

    const notRetryable = await runCli(['tasks', 'retry', id], { env: box.env });
    expect(notRetryable.code).toBe(4);
    expect(notRetryable.stdout).toContain('not retryable: it is pending');

    await runCli(['tasks', 'cancel', id], { env: box.env });
    // Deleting asks first; with no terminal to ask on, only --yes deletes.
    const unconfirmed = await runCli(['tasks', 'delete', id], { env: box.env });
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toBe(`conveyor: 1 finished task would be deleted (${id}): not deleted without confirmation; add --yes to delete (there is no terminal to ask on)\n`);
    expect(await engine.taskGet({ id })).not.toBeNull();
    const deleted = await runCli(['tasks', 'delete', id, '--yes'], { env: box.env });
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe(`${id}: deleted\n`);
    expect(await engine.taskGet({ id })).toBeNull();
    expect((await runCli(['tasks', 'delete', id], { env: box.env })).code).toBe(3);
  });
});

describe('conveyor stats and usage', () => {
  it('stats --json has the API\'s shape; the table has a row per type and a total', async () => {
    const tasks = await listAllTasks(engine);
    const [json, table] = await Promise.all([runCliJson(['stats'], { env: box.env }), runCli(['stats'], { env: box.env })]);
    expect(json.code).toBe(0);
    expect(json.data).toMatchObject({ scope: 'all', total: tasks.length, by_type: { email: expect.any(Object) } });
    expect(json.data.pending + json.data.scheduled).toBe(tasks.filter((t) => t.status === 'pending' || t.status === 'scheduled').length);
    expect(table.stdout).toMatch(/^TYPE\s+PENDING\s+SCHEDULED\s+RUNNING\s+RETRYING\s+COMPLETED\s+FAILED\s+CANCELLED\s+TOTAL$/m);
    expect(table.stdout).toMatch(new RegExp(`^all types(\\s+\\d+){7}\\s+${tasks.length}$`, 'm'));
  });

  it('usage mistakes exit 2; --help works on every command', async () => {
    const results = await Promise.all([
      runCli(['tasks', 'list', '--status', 'done'], { env: box.env }),
      runCli(['tasks', 'list', '--bogus'], { env: box.env }),
      runCli(['enqueue'], { env: box.env }),
      runCli(['dead-letter', 'list', '--help'], { env: box.env }),
      runCli(['tasks', 'cancel', '--help'], { env: box.env }),
    ]);
    expect(results.map((r) => r.code)).toEqual([2, 2, 2, 0, 0]);
    expect(results[0]!.stderr).toContain('--status: done is not one of pending, scheduled, running, retrying, completed, failed, cancelled');
    expect(results[1]!.stderr).toContain("unknown option '--bogus'");
    expect(results[3]!.stdout).toContain('Usage: conveyor dead-letter list [options]');
  });

  it('reading commands refuse a database that does not exist, and do not create it', async () => {
    const missing = join(box.dir, 'missing', 'nothing.db');
    const env = { ...box.env, CONVEYOR__DATABASE__URL: `sqlite:${missing}` };
    const result = await runCli(['tasks', 'list'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('does not exist yet: run `conveyor migrate` or ./scripts/dev.sh');
    expect(existsSync(missing)).toBe(false);
  });

  it('an unreachable database exits 5, as the table of exit codes says; migrate too', async () => {
    const env = { ...box.env, CONVEYOR__DATABASE__URL: 'postgres://nobody@127.0.0.1:1/none' };
    const [migrate, list] = await Promise.all([runCli(['migrate'], { env }), runCli(['tasks'], { env })]);
    expect(migrate.code).toBe(5);
    expect(migrate.stderr).toContain('the database did not answer: check database.url');
    expect(list.code).toBe(5);
  });
});

describe('conveyor tasks get and stats: task types no live worker takes', () => {
  it('a waiting task of a type no live worker lists is flagged; with no live worker at all, one calm line', async () => {
    // As SQL or another Conveyor version would insert it: a type no worker here registered.
    // A heartbeat stays live for a day here, so a slow machine cannot make the test's workers look stopped.
    const env = { ...box.env, CONVEYOR__SERVER__WORKER_LIVE_MS: '86400000' };
    const { task } = await engine.taskInsert({ task: newTask({ taskType: 'legacy_import', payload: {} }, new Date()) });
    const heartbeat = (id: string, taskTypes: string[]) => {
      const now = new Date();
      return engine.workerHeartbeat({ worker: { id, host: 'test', pid: 1, concurrency: 2, running: 0, taskTypes, startedAt: now }, now });
    };
    try {
      const alone = await runCli(['tasks', 'get', task.id], { env });
      expect(alone.stdout).toMatch(/workers\s+none live: the task waits until a worker starts/);
      expect((await runCli(['stats'], { env })).stdout).toMatch(/^Workers: none live; \d+ waiting tasks? will start when one does\.$/m);

      await heartbeat('w-mail', ['email', 'delay_task']);
      const flagged = await runCli(['tasks', 'get', task.id], { env });
      expect(flagged.code).toBe(0);
      expect(flagged.stdout).toMatch(/workers\s+warning: no live worker takes legacy_import; the task waits until a worker with a handler for it starts/);
      const json = await runCliJson(['tasks', 'get', task.id], { env });
      expect(json.data.handling).toEqual({ state: 'unhandled', live_workers: 0 });
      const [table, stats] = await Promise.all([runCli(['stats'], { env }), runCliJson(['stats'], { env })]);
      expect(table.stdout).toContain('No live worker takes: legacy_import (1 waiting).');
      expect(stats.data).toMatchObject({ live_workers: 1, unhandled_types: [{ task_type: 'legacy_import', waiting: 1 }] });
      // The type listing shows it although no worker ever registered it, and names it below the table.
      const [types, typesTable] = await Promise.all([runCliJson(['types', '--json'], { env }), runCli(['types'], { env })]);
      expect(types.data.items.find((t: { task_type: string }) => t.task_type === 'legacy_import')).toMatchObject({ waiting: 1, live_workers: 0, handling: 'unhandled', last_seen_at: null });
      expect(types.data.items.find((t: { task_type: string }) => t.task_type === 'email')).toMatchObject({ live_workers: 1, handling: 'handled' });
      expect(typesTable.stdout).toContain('No live worker takes: legacy_import (1 waiting).');

      await heartbeat('w-legacy', ['legacy_import']);
      expect((await runCliJson(['tasks', 'get', task.id], { env })).data.handling).toEqual({ state: 'handled', live_workers: 1 });
      expect((await runCli(['stats'], { env })).stdout).not.toContain('No live worker takes');
    } finally {
      await engine.workerRemove({ id: 'w-mail' });
      await engine.workerRemove({ id: 'w-legacy' });
      await engine.taskCancel({ id: task.id, now: new Date() });
      await engine.taskDelete({ id: task.id });
    }
  });
});
