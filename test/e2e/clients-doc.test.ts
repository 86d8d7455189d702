import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../helpers/free-port.ts';
import { spawnTracked } from '../helpers/process-registry.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { CLI_PATH } from '../helpers/worker-process.ts';

const run = promisify(execFile);
const DOC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'clients.md');

/** The first ```sh block after `heading` in docs/clients.md, as a reader would copy it. */
function shellBlock(heading: string): string {
  const text = readFileSync(DOC, 'utf8');
  const section = text.slice(text.indexOf(heading));
  const match = /```sh\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error(`no sh block after ${heading} in docs/clients.md`);
  return match[1]!;
}

/** docs/clients.md's curl walkthrough, run as written (bash, curl, jq) against `conveyor start`. */
describe('docs/clients.md', () => {
  let dir: string;
  let start: ChildProcess;
  let base: string;
  let output = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'conveyor-clients-doc-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    start = spawnTracked(process.execPath, [CLI_PATH, 'start'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME ?? '/tmp',
        CONVEYOR__DATABASE__URL: `sqlite:${join(dir, 'conveyor.db')}`,
        CONVEYOR__DATA__DIR: join(dir, 'data'),
        CONVEYOR__SERVER__PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    start.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    start.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('Ctrl-C stops everything'), { timeoutMs: 60_000, message: () => `the start banner\n${output}` });
  }, 90_000);

  afterAll(async () => {
    if (start && start.exitCode === null) {
      const exited = new Promise((resolve) => start.once('exit', resolve));
      start.kill('SIGINT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('the curl walkthrough runs as written: login, create and wait, page, stats, cancel, retry, dead letter, an error', async () => {
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', shellBlock('## curl')], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', BASE: base },
      timeout: 60_000,
    });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/"success":true/);
    expect(stdout).toMatch(/^task [0-9a-f-]{36}: completed$/m);
    expect(stdout).toMatch(/^[0-9a-f-]{36} delay_task completed$/m);
    expect(stdout).toMatch(/"total": 1,\n  "completed": 1,/);
    expect(lines).toEqual(expect.arrayContaining(['cancelled', 'pending', 'failed']));
    expect(stdout).toMatch(/^[0-9a-f-]{36} delay_task: failing attempt 1/m);
    expect(lines.at(-1)).toMatch(/^\{"success":false,"error":\{"code":"VALIDATION_FAILED",.*"field":"payload\.delay_ms"\}\}400$/);
  }, 90_000);
});
