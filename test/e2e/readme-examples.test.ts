import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConveyorClient } from '../../src/index.ts';
import type { Engine } from '../../src/store/engine.ts';
import { postgresTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { freePort } from '../helpers/free-port.ts';
import { openTestEngine } from '../helpers/task-fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { runProcess } from './cli-helpers.ts';
import { distIsCurrent, GroupProcess, ROOT, readmeBlock, readmeBlocks, readmeEnv, shellCommands, withConveyorNpx } from './readme-blocks.ts';

/**
 * Every code block of README.md is run here (the greet task module in readme-example.test.ts), taken
 * from the README itself, so an example that stops working, or a new one nobody runs, fails a test.
 * What needs the outside world (SMTP to example.com, a webhook to api.example.com) is checked for its
 * effect (the task exists, was accepted), not for delivery.
 */
const RUN_BY = new Map<string, string>([
  ['Two commands|npm ci|npm start', 'npm start, under "the tour"'],
  ['Two commands|apt-get install chromium|npm ci|npm test', 'not run: it installs system packages and is the whole test suite'],
  ['A tour with curl|curl -X POST http://localhost:3000/auth/register', 'the tour'],
  ['A tour with curl|# A task that retries linearly', 'the tour'],
  ['Your own task types in TypeScript|import { defineTask', 'readme-example.test.ts, and the library test here'],
  ['Your own task types in TypeScript|npx conveyor work --tasks ./tasks/greet.ts', 'the library test'],
  ["Your own task types in TypeScript|import pg from 'pg';", 'the library test'],
  ['Recurring tasks|await conveyor.schedule({', 'the library test'],
  ["Testing your task types|import { createTestConveyor, runTask } from 'conveyor-tasks/testing';", 'the testing test'],
  ['Operating it|npx conveyor stats --watch', 'the CLI test'],
  ['PostgreSQL, and scaling out|export CONVEYOR__DATABASE__URL=', 'the PostgreSQL test'],
]);

function blockKey(block: { heading: string; code: string }): string | undefined {
  const lines = block.code.split('\n');
  return [...RUN_BY.keys()].find((key) => {
    const [heading, ...starts] = key.split('|');
    return heading === block.heading && starts.every((start, index) => (lines[index] ?? '').startsWith(start));
  });
}

// `npm start` and `npx conveyor` run the built CLI (bin/conveyor.js runs dist/, which `npm ci` builds):
// build it from the sources under test first, unless it was built after their last change.
beforeAll(async () => {
  if (distIsCurrent()) return;
  const built = await runProcess(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, env: readmeEnv({}) });
  if (built.code !== 0) throw new Error(`the build failed\n${built.stdout}${built.stderr}`);
}, 300_000);

describe('README.md', () => {
  it('has no code block that no test runs', () => {
    const blocks = readmeBlocks();
    const unrun = blocks.filter((block) => blockKey(block) === undefined).map((block) => `${block.heading}: ${block.code.split('\n')[0]}`);
    expect(unrun, 'README code blocks no test runs (add them to readme-examples.test.ts)').toEqual([]);
    expect(new Set(blocks.map(blockKey)).size).toBe(RUN_BY.size);
  });
});

describe('the README tour: npm start, curl, and the CLI of "Operating it"', () => {
  let dir: string;
  let start: GroupProcess;
  let base: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(ROOT, 'test', '.tmp-readme-tour-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = withConveyorNpx(
      readmeEnv({
        CONVEYOR__DATABASE__URL: `sqlite:${join(dir, 'conveyor.db')}`,
        CONVEYOR__DATA__DIR: join(dir, 'data'),
        CONVEYOR__SERVER__PORT: String(port),
      }),
      dir,
    );
    expect(shellCommands(readmeBlock('Two commands', 'npm ci'))).toEqual(['npm ci', 'npm start']);
    // `npm ci` has been done: this checkout is the one under test.
    start = new GroupProcess('bash', ['-c', 'npm start'], { cwd: ROOT, env });
    await waitFor(() => start.output.includes('Ctrl-C stops everything'), { timeoutMs: 90_000, message: () => `npm start's banner\n${start.output}` });
  }, 120_000);

  afterAll(async () => {
    await start?.stop('SIGINT');
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('runs the curl tour as printed, each call answering as the README says', async () => {
    const tour = readmeBlock('A tour with curl', 'curl -X POST http://localhost:3000/auth/register').code;
    const more = readmeBlock('A tour with curl', '# A task that retries linearly').code;
    const responses = join(dir, 'responses.jsonl');
    // curl is wrapped to keep every answer, and `<id>` is the last task an answer showed (the webhook).
    const prelude = String.raw`
curl() {
  local out rc id
  out=$(command curl -sS "$@"); rc=$?
  printf '%s\n' "$out" >> "$RESPONSES"
  id=$(printf '%s' "$out" | python3 -c 'import json,sys
d = json.load(sys.stdin).get("data")
print(d["id"] if isinstance(d, dict) and "task_type" in d and "status" in d else "")' 2>/dev/null)
  if [ -n "$id" ]; then ID=$id; fi
  printf '%s\n' "$out"
  return $rc
}
`;
    const script = prelude + `${tour}\n${more}`.replaceAll('http://localhost:3000', base).replaceAll('<id>', '$ID');
    const before = Date.now();
    const result = await runProcess('bash', ['-c', script], { cwd: dir, env: { ...env, RESPONSES: responses } });
    expect(result.code, result.stderr).toBe(0);
    const answers = readFileSync(responses, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(answers.map((answer) => answer.success), JSON.stringify(answers, null, 1)).toEqual(Array(answers.length).fill(true));
    const [register, login, email, stats, list, webhook, shown, cancelled, retried, deadLetter, types, schedule] = answers;
    expect(answers).toHaveLength(12);
    expect(register.data).toMatchObject({ username: 'test', role: 'user' });
    expect(login.data.session_token).toEqual(expect.any(String));
    expect(email.data).toMatchObject({ task_type: 'email', status: 'pending' });
    expect(stats.data).toMatchObject({ scope: 'own', total: 1 });
    expect(list.data.map((task: { id: string }) => task.id)).toContain(email.data.id);
    expect(webhook.data).toMatchObject({ task_type: 'webhook', priority: 'high', status: 'scheduled', max_attempts: 5 });
    const runsAt = Date.parse(webhook.data.scheduled_at);
    expect(runsAt).toBeGreaterThan(before + 9 * 60_000);
    expect(runsAt).toBeLessThan(Date.now() + 11 * 60_000);
    expect(shown.data).toMatchObject({ id: webhook.data.id, payload: { url: 'https://api.example.com/notify', method: 'POST' } });
    expect(cancelled.data).toMatchObject({ id: webhook.data.id, status: 'cancelled' });
    expect(retried.data).toMatchObject({ id: webhook.data.id });
    expect(deadLetter.data).toEqual(expect.any(Array));
    expect(types.data.map((type: { task_type: string }) => type.task_type)).toEqual(expect.arrayContaining(['email', 'webhook', 'file_cleanup']));
    expect(schedule.data).toMatchObject({ name: 'morning-digest', timezone: 'America/New_York', task_type: 'email' });

    // "With no SMTP server configured, the email is written to data/outbox/<task-id>.eml".
    const token: string = login.data.session_token;
    const get = async (path: string) => (await (await fetch(base + path, { headers: { authorization: `Bearer ${token}` } })).json()) as any;
    const sent = await waitFor(async () => {
      const task = (await get(`/tasks/${email.data.id}`)).data;
      return ['completed', 'failed'].includes(task.status) ? task : undefined;
    }, { timeoutMs: 45_000, message: 'the tour\'s email task' });
    expect(sent.status).toBe('completed');
    expect(existsSync(join(dir, 'data', 'outbox', `${email.data.id}.eml`))).toBe(true);

    // "Errors are JSON and name the field at fault", in the words docs/api.md uses.
    const refused = await fetch(`${base}/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ task_type: 'email', payload: { to: 'not-an-address', subject: 'Test', body: 'Hello' } }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({
      success: false,
      error: { code: 'VALIDATION_FAILED', message: 'payload.to: must be an email address', field: 'payload.to' },
    });
  }, 120_000);

  it('runs every command of "Operating it" against the same database, each exiting 0', async () => {
    const commands = shellCommands(readmeBlock('Operating it', 'npx conveyor stats --watch'));
    writeFileSync(join(dir, 'tasks.jsonl'), [
      JSON.stringify({ task_type: 'data_processing', payload: { operation: 'sum', data: [1, 2, 3] } }),
      JSON.stringify({ task_type: 'email', payload: { to: 'b@example.com', subject: 'Hi', body: 'Hello' } }),
    ].join('\n'));
    for (const command of commands) {
      if (command.includes('--watch')) {
        // Refreshes until Ctrl-C: it must draw its table, then stop on the signal.
        const watch = new GroupProcess('bash', ['-c', command], { cwd: dir, env });
        // npx, then the CLI, then the first query: on a loaded 2-core machine that has taken over 30 s.
        await waitFor(() => /completed/.test(watch.output), { timeoutMs: 90_000, message: () => `${command}\n${watch.output}` });
        await watch.stop('SIGINT');
        continue;
      }
      if (command === 'npx conveyor users create --admin') {
        // It asks for name, email and password on a terminal; without one (here) it says which flags to give.
        const asked = await runProcess('bash', ['-c', command], { cwd: dir, env });
        expect(asked.code).not.toBe(0);
        expect(asked.stderr).toContain('needs --username <name> and --email <address> when there is no terminal');
        const created = await runProcess('bash', ['-c', `${command} --username ops --email ops@example.com`], { cwd: dir, env });
        expect(created.code, created.stderr).toBe(0);
        continue;
      }
      const result = await runProcess('bash', ['-c', command], { cwd: dir, env });
      if (command === 'npx conveyor doctor') {
        // It exits 1 when something is wrong, and the tour left something wrong on purpose: the
        // retried webhook to api.example.com (unreachable) failed five times and opened its breaker.
        const failures = result.stdout.split('\n').filter((line) => line.trim().startsWith('FAIL'));
        expect(failures.every((line) => /breakers\s+webhook/.test(line)), result.stdout).toBe(true);
        expect(result.code).toBe(failures.length === 0 ? 0 : 1);
        continue;
      }
      expect(result.code, `${command}\n${result.stdout}\n${result.stderr}`).toBe(0);
      if (command.startsWith('npx conveyor enqueue --file')) expect(result.stdout + result.stderr).toMatch(/2/);
      if (command === 'npx conveyor users') expect(result.stdout).toMatch(/ops/);
    }
    expect(commands.length).toBeGreaterThanOrEqual(12);
  }, 240_000);
});

describe('the README library examples, on PostgreSQL', () => {
  let db: TestDatabase;
  let dir: string;
  let worker: GroupProcess | undefined;
  let engine: Engine;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = postgresTestDatabase();
    dir = mkdtempSync(join(ROOT, 'test', '.tmp-readme-library-'));
    env = withConveyorNpx(readmeEnv({ CONVEYOR__DATABASE__URL: db.url, DATABASE_URL: db.url, CONVEYOR__DATA__DIR: join(dir, 'data') }), dir);
    engine = await openTestEngine(db);
  });
  afterAll(async () => {
    if (worker) await worker.stop('SIGTERM');
    await engine?.close();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query('DROP TABLE IF EXISTS public.orders');
    await client.end();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const runTs = async (name: string, code: string) => {
    writeFileSync(join(dir, name), code);
    const result = await runProcess(process.execPath, ['--import', 'tsx', name], { cwd: dir, env });
    expect(result.code, `${name}\n${result.stdout}\n${result.stderr}`).toBe(0);
    return result.stdout;
  };

  it('runs the worker command, the client with the application\'s transaction, and the schedule declaration', async () => {
    mkdirSync(join(dir, 'tasks'));
    writeFileSync(join(dir, 'tasks', 'greet.ts'), readmeBlock('Your own task types in TypeScript', 'import { defineTask').code);
    const [work] = shellCommands(readmeBlock('Your own task types in TypeScript', 'npx conveyor work'));
    expect(work).toBe('npx conveyor work --tasks ./tasks/greet.ts');
    worker = new GroupProcess('bash', ['-c', work!], { cwd: dir, env });
    await waitFor(async () => (await engine.typeList()).some((type) => type.name === 'greet'), { timeoutMs: 60_000, message: () => `the greet worker\n${worker!.output}` });

    const app = new pg.Client({ connectionString: db.url });
    await app.connect();
    await app.query('CREATE TABLE IF NOT EXISTS public.orders (id integer PRIMARY KEY, email text NOT NULL)');
    await runTs('enqueue.ts', readmeBlock('Your own task types in TypeScript', "import pg from 'pg';").code);
    expect((await app.query('SELECT email FROM public.orders WHERE id = 42')).rows).toEqual([{ email: 'ada@example.com' }]);
    await app.end();

    const tasks = (await engine.taskList({ limit: 10 })).tasks;
    const greet = tasks.find((task) => task.taskType === 'greet')!;
    expect(greet).toMatchObject({ priority: 'high', payload: { name: 'Ada' } });
    expect(tasks.find((task) => task.taskType === 'email')).toMatchObject({ payload: { to: 'ada@example.com', subject: 'Order 42' } });
    expect(await waitFor(async () => {
      const task = await engine.taskGet({ id: greet.id });
      return task?.status === 'completed' ? task : undefined;
    }, { message: 'the greet task' })).toMatchObject({ output: { greeting: 'Hello, Ada!' } });

    const opening = "import { ConveyorClient } from 'conveyor-tasks';\nconst conveyor = await ConveyorClient.open({ databaseUrl: process.env.DATABASE_URL });\n";
    await runTs('schedule.ts', `${opening}${readmeBlock('Recurring tasks', 'await conveyor.schedule({').code}\nawait conveyor.close();\n`);
    const [schedule] = await engine.scheduleList({});
    expect(schedule).toMatchObject({ name: 'nightly-cleanup', cron: '0 3 * * *', timezone: 'Europe/Berlin', taskType: 'file_cleanup' });
    expect(schedule!.template.payload).toEqual({ file_path: './data/reports', max_age_hours: 168 });
  }, 180_000);

  it('judges a schedule payload the same in the library and the CLI, in the same words', async () => {
    const conveyor = await ConveyorClient.open({ databaseUrl: db.url });
    try {
      for (const [payload, field, message] of [
        [{ file_path: './data/reports', max_age_hours: -1 }, 'payload.max_age_hours', 'payload.max_age_hours: must be at least 0'],
        [{ file_path: './data/reports' }, 'payload.max_age_hours', 'payload.max_age_hours: is required'],
        [{ file_path: './data/reports', max_age_hours: 1, older_than: 2 }, 'payload.older_than', 'payload.older_than: is not a known field'],
      ] as const) {
        await expect(conveyor.schedule({ name: 'cleanup-check', cron: '0 3 * * *', taskType: 'file_cleanup', payload }), JSON.stringify(payload)).rejects.toMatchObject({ field, message });
        const cli = await runProcess('bash', ['-c', `npx conveyor schedules add cleanup-check "0 3 * * *" file_cleanup --payload '${JSON.stringify(payload)}'`], { cwd: dir, env });
        expect(cli.code, cli.stderr).not.toBe(0);
        expect(cli.stderr).toContain(message);
      }
    } finally {
      await conveyor.close();
    }
  }, 60_000);
});

describe('the README testing example', () => {
  it('runs as printed: runTask and createTestConveyor with the greet module', async () => {
    const dir = mkdtempSync(join(ROOT, 'test', '.tmp-readme-testing-'));
    try {
      mkdirSync(join(dir, 'tasks'));
      writeFileSync(join(dir, 'tasks', 'greet.ts'), readmeBlock('Your own task types in TypeScript', 'import { defineTask').code);
      const example = readmeBlock('Testing your task types', "import { createTestConveyor, runTask } from 'conveyor-tasks/testing';").code;
      writeFileSync(join(dir, 'greet.test-example.ts'), `${example}\nconsole.log(JSON.stringify({ run: run.status, output: run.output, task: task.taskType }));\n`);
      const result = await runProcess(process.execPath, ['--import', 'tsx', 'greet.test-example.ts'], { cwd: dir, env: readmeEnv({}) });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout.trim().split('\n').at(-1)!)).toEqual({ run: 'completed', output: { greeting: 'Hello, Ada!' }, task: 'greet' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the README PostgreSQL commands', () => {
  it('migrate, serve and work run as printed on PostgreSQL', async () => {
    const db = postgresTestDatabase();
    const dir = mkdtempSync(join(ROOT, 'test', '.tmp-readme-postgres-'));
    const engine = await openTestEngine(db);
    const running: GroupProcess[] = [];
    try {
      const commands = shellCommands(readmeBlock('PostgreSQL, and scaling out', 'export CONVEYOR__DATABASE__URL='));
      expect(commands[0]).toMatch(/^export CONVEYOR__DATABASE__URL=postgres:\/\//);
      const port = await freePort();
      // The database and port are this test's; the commands are the README's, run through the real npx.
      const env = readmeEnv({ CONVEYOR__DATABASE__URL: db.url, CONVEYOR__DATA__DIR: join(dir, 'data'), CONVEYOR__SERVER__PORT: String(port) });
      expect(commands.slice(1)).toEqual(['npx conveyor migrate', 'npx conveyor serve', 'npx conveyor work --concurrency 16']);
      const migrate = await runProcess('bash', ['-c', commands[1]!], { cwd: dir, env });
      expect(migrate.code, migrate.stderr).toBe(0);
      const serve = new GroupProcess('bash', ['-c', commands[2]!], { cwd: dir, env });
      running.push(serve);
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null))?.status === 200, { timeoutMs: 60_000, message: () => `serve\n${serve.output}` });
      const work = new GroupProcess('bash', ['-c', commands[3]!], { cwd: dir, env });
      running.push(work);
      await waitFor(async () => (await engine.workerList()).some((w) => w.concurrency === 16), { timeoutMs: 60_000, message: () => `work\n${work.output}` });
    } finally {
      for (const process of running) await process.stop('SIGTERM');
      await engine.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
