import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { spawnTracked } from './process-registry.ts';
import { waitFor } from './wait-for.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The CLI from src/ (through tsx), so tests need no build; bin/conveyor.js runs the compiled dist/. */
export const CLI_PATH = join(ROOT, 'test', 'helpers', 'conveyor-from-source.js');
export const TEST_WORKER_PATH = join(ROOT, 'test', 'helpers', 'test-worker.ts');

export type LogLine = Record<string, unknown> & { level?: string; msg?: string };

/** A real worker process and what it printed. */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitedAt: number | null = null;

  constructor(child: ChildProcess) {
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitedAt = Date.now();
        resolve({ code, signal });
      }),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.lines.push({ msg: line, level: 'raw' });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitedAt === null;
  }

  /** The first log line matching, once it is printed. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs = 30_000, what = 'a log line'): Promise<LogLine> {
    return waitFor(
      () => {
        const found = this.lines.find(match);
        if (found) return found;
        if (!this.running) throw new Error(`worker ${this.pid} exited while waiting for ${what}\n${this.describe()}`);
        return undefined;
      },
      { timeoutMs, intervalMs: 20, message: () => `${what}\n${this.describe()}` },
    );
  }

  waitForMessage(text: string | RegExp, timeoutMs = 30_000): Promise<LogLine> {
    const test = (msg: unknown) => typeof msg === 'string' && (typeof text === 'string' ? msg.includes(text) : text.test(msg));
    return this.waitForLog((line) => test(line.msg), timeoutMs, `log message ${String(text)}`);
  }

  async started(timeoutMs = 30_000): Promise<LogLine> {
    return this.waitForMessage('worker started', timeoutMs);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number | null> {
    if (this.running) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGTERM');
    }
    return (await this.exited).code;
  }

  /** SIGKILL to the process and anything it started (its process group), and wait; for cleanup. */
  async kill(): Promise<void> {
    if (this.running) {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        this.child.kill('SIGKILL');
      }
    }
    await this.exited;
  }

  describe(): string {
    const tail = this.lines.slice(-15).map((line) => JSON.stringify(line)).join('\n');
    return `--- worker ${this.pid} (last lines) ---\n${tail}\n--- stderr ---\n${this.stderr.slice(-2000)}`;
  }
}

export interface StartWorkerOptions {
  databaseUrl: string;
  /** CONVEYOR__... settings and the test hooks (CONVEYOR_TEST_...). */
  env?: Record<string, string>;
  /** `test` runs test/helpers/test-worker.ts (builtin + test task types); `cli` runs `conveyor work`. */
  entry?: 'test' | 'cli';
  args?: string[];
}

/**
 * Spawns a worker process with a clean environment: only what the test passes reaches it. It runs
 * in a process group of its own and dies with the test file at the latest (process-registry.ts).
 */
export function startWorker(options: StartWorkerOptions): WorkerProcess {
  const entry = options.entry ?? 'test';
  const args = entry === 'cli' ? [CLI_PATH, 'work', ...(options.args ?? [])] : ['--import', 'tsx', TEST_WORKER_PATH, ...(options.args ?? [])];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    CONVEYOR__DATABASE__URL: options.databaseUrl,
    CONVEYOR__LOG__LEVEL: 'info',
    ...options.env,
  };
  const child = spawnTracked(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new WorkerProcess(child);
}

/** Every execution record written by record_task, from every process. */
export function readRecords<T>(dir: string, files: string[]): T[] {
  return files.flatMap((file) =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as T),
  );
}

/** The process state letter from /proc (R running, S sleeping, T stopped, ...). */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** Whether a process exists and is not a zombie (exited, not yet reaped). */
export function isAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== 'Z';
}
