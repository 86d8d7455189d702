import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../src/store/engine.ts';
import { spawnTracked } from '../helpers/process-registry.ts';
import { openTestEngine } from '../helpers/task-fixtures.ts';
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

/** The engine behind a sandbox's database, to set up and inspect what the CLI sees. */
export function openSandboxEngine(box: CliSandbox): Promise<Engine> {
  return openTestEngine({ kind: 'sqlite', url: box.databaseUrl, drop: async () => {} });
}

/** Runs `conveyor <args>` as a real process and collects its output and exit code. */
export function runCli(args: string[], options: { env: Record<string, string>; input?: string; cwd?: string }): Promise<CliResult> {
  return runProcess(process.execPath, [CLI_PATH, ...args], { ...options, cwd: options.cwd ?? tmpdir() });
}

/**
 * Runs a program to its end, its stdin given `input` (or nothing), and collects its output and exit
 * code. Whatever it leaves running (a server a script started) dies with the test file.
 */
export function runProcess(command: string, args: string[], options: { env: Record<string, string>; cwd: string; input?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(command, args, { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
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

/**
 * Runs `conveyor <args>` on a terminal (a pseudo-terminal made by util-linux `script`), as a person at
 * a shell would: each time the output shows the next prompt, its answer is typed. Resolves with
 * everything the terminal showed (stdout and stderr, as one stream) and the exit code.
 */
export function runCliOnTerminal(args: string[], options: { env: Record<string, string>; answers: readonly (readonly [prompt: string, answer: string])[]; cwd?: string }): Promise<{ code: number | null; screen: string }> {
  const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, CLI_PATH, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    // --echo never: what is typed appears only if the program itself echoes it (a password must not).
    const child = spawnTracked('script', ['--quiet', '--flush', '--return', '--echo', 'never', '--command', command, '/dev/null'], {
      env: options.env,
      cwd: options.cwd ?? tmpdir(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let seen = 0;
    let next = 0;
    const onOutput = (chunk: Buffer) => {
      screen += chunk.toString();
      const step = options.answers[next];
      if (step && screen.indexOf(step[0], seen) >= 0) {
        seen = screen.length;
        next += 1;
        child.stdin.write(`${step[1]}\r`);
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.once('error', reject);
    child.once('close', (code: number | null) => resolve({ code, screen: screen.replace(/\r\n/g, '\n') }));
  });
}
