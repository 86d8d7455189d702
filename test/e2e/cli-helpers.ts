import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH } from '../helpers/worker-process.ts';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A folder for one test file: its SQLite database, data dir, logs; and the environment that points there. */
export interface CliSandbox {
  dir: string;
  databaseUrl: string;
  env: Record<string, string>;
  remove(): void;
}

export function cliSandbox(extra: Record<string, string> = {}): CliSandbox {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-cli-'));
  const databaseUrl = `sqlite:${join(dir, 'conveyor.db')}`;
  return {
    dir,
    databaseUrl,
    // Only what the test sets reaches the process: the machine's DATABASE_URL and the like stay out.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      CONVEYOR__DATABASE__URL: databaseUrl,
      CONVEYOR__DATA__DIR: join(dir, 'data'),
      CONVEYOR__LOG__LEVEL: 'warn',
      ...extra,
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs `conveyor <args>` as a real process and collects its output and exit code. */
export function runCli(args: string[], options: { env: Record<string, string>; input?: string; cwd?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env: options.env, cwd: options.cwd ?? tmpdir(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs the command and parses its stdout as JSON (failing with everything it printed otherwise). */
export async function runCliJson<T = any>(args: string[], options: { env: Record<string, string>; cwd?: string }): Promise<{ code: number | null; data: T; stderr: string }> {
  const result = await runCli([...args, '--json'], options);
  try {
    return { code: result.code, data: JSON.parse(result.stdout) as T, stderr: result.stderr };
  } catch {
    throw new Error(`conveyor ${args.join(' ')} --json printed no JSON (exit ${result.code})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
}
