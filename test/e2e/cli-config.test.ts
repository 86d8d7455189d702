import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliSandbox, openSandboxEngine, runCli, runCliJson, type CliSandbox } from './cli-helpers.ts';

/** Settings from a config file, below the environment, as real processes see them. */
let box: CliSandbox;
let fileEnv: Record<string, string>;

beforeAll(async () => {
  box = cliSandbox();
  const engine = await openSandboxEngine(box);
  await engine.close();
  // The database comes from the file only: the environment no longer names it.
  fileEnv = { ...box.env };
  delete fileEnv.CONVEYOR__DATABASE__URL;
  writeFileSync(
    join(box.dir, 'conveyor.config.json'),
    JSON.stringify({ database: { url: box.databaseUrl }, worker: { concurrency: 12, poll_interval_secs: 3 }, webhook: { secret: 'shh' } }),
  );
});
afterAll(() => box?.remove());

describe('conveyor config', () => {
  it('prints every setting with its value and where it came from; the environment wins over the file; secrets stay hidden', async () => {
    const env = { ...fileEnv, STARTER__WORKER__CONCURRENCY: '6' };
    const json = await runCliJson(['config'], { env, cwd: box.dir });
    expect(json.code).toBe(0);
    expect(json.data.file).toBe(join(box.dir, 'conveyor.config.json'));
    const setting = (name: string) => json.data.settings.find((s: { setting: string }) => s.setting === name);
    expect(setting('worker.concurrency')).toEqual({ setting: 'worker.concurrency', value: 6, source: { kind: 'env', name: 'STARTER__WORKER__CONCURRENCY' } });
    expect(setting('worker.poll_interval_ms')).toMatchObject({ value: 3000, source: { kind: 'file', key: 'worker.poll_interval_secs' } });
    expect(setting('worker.lease_ms')).toMatchObject({ value: 30_000, source: { kind: 'default' } });
    expect(setting('webhook.secret').value).toBe('(hidden)');

    const table = await runCli(['config'], { env, cwd: box.dir });
    expect(table.stdout).toMatch(/^worker\.concurrency\s+6\s+env STARTER__WORKER__CONCURRENCY$/m);
    expect(table.stdout).toMatch(/^webhook\.secret\s+\(set, hidden\)\s+file /m);
    expect(table.stdout).not.toContain('shh');
  });

  it('every command reads the file: ./conveyor.config.json, --config <file> or CONVEYOR_CONFIG', async () => {
    const [here, flag, variable] = await Promise.all([
      runCliJson(['stats'], { env: fileEnv, cwd: box.dir }),
      runCliJson(['--config', join(box.dir, 'conveyor.config.json'), 'stats'], { env: fileEnv }),
      runCliJson(['stats'], { env: { ...fileEnv, CONVEYOR_CONFIG: join(box.dir, 'conveyor.config.json') } }),
    ]);
    for (const run of [here, flag, variable]) {
      expect(run.code).toBe(0);
      expect(run.data.total).toBe(0);
    }
  });

  it('an invalid setting stops the command with exit 6, naming the setting, the file and what is allowed', async () => {
    const bad = join(box.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ worker: { concurrency: 'lots' } }));
    const result = await runCli(['--config', bad, 'tasks', 'list'], { env: box.env });
    expect(result.code).toBe(6);
    expect(result.stderr).toBe(`conveyor: configuration error: worker.concurrency in ${bad} must be a whole number from 1 to 1000; got "lots"\n`);
    const env = await runCli(['stats'], { env: { ...box.env, CONVEYOR__WORKER__CONCURENCY: '3' } });
    expect(env.code).toBe(6);
    expect(env.stderr).toContain('CONVEYOR__WORKER__CONCURENCY is not a setting; worker settings are concurrency');
  });

  it('a bad flag is a usage error (exit 2) that names the flag, not the environment variable it stands for', async () => {
    const [work, serve, start, fromEnv] = await Promise.all([
      runCli(['work', '--concurrency', 'abc'], { env: box.env }),
      runCli(['serve', '--port', 'http'], { env: box.env }),
      runCli(['start', '--workers', 'two'], { env: box.env }),
      runCli(['work'], { env: { ...box.env, CONVEYOR__WORKER__CONCURRENCY: 'abc' } }),
    ]);
    expect(work.code).toBe(2);
    expect(work.stderr).toBe('conveyor: --concurrency must be a whole number from 1 to 1000; got "abc"\n');
    expect(serve.code).toBe(2);
    expect(serve.stderr).toBe('conveyor: --port must be a whole number from 0 to 65535; got "http"\n');
    expect(start.code).toBe(2);
    expect(start.stderr).toBe('conveyor: --workers must be a whole number from 0 to 64; got "two"\n');
    // Set in the environment, the environment variable is what to fix: a configuration error.
    expect(fromEnv.code).toBe(6);
    expect(fromEnv.stderr).toContain('CONVEYOR__WORKER__CONCURRENCY (worker.concurrency) must be a whole number from 1 to 1000; got "abc"');
  });

  it('--defaults prints the reference of every setting', async () => {
    const json = await runCliJson(['config', '--defaults'], { env: box.env });
    expect(json.data.items).toContainEqual(expect.objectContaining({ setting: 'worker.concurrency', default: 4, env: ['CONVEYOR__WORKER__CONCURRENCY', 'STARTER__WORKER__CONCURRENCY'] }));
    const text = await runCli(['config', '--defaults'], { env: box.env });
    expect(text.stdout).toContain('worker.concurrency = 4\n    CONVEYOR__WORKER__CONCURRENCY, STARTER__WORKER__CONCURRENCY\n    a whole number from 1 to 1000. Tasks one worker process runs at once.');
  });
});
