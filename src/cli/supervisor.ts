import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ChildSpec {
  /** Shown in the supervisor's messages: "server", "worker-1". */
  name: string;
  args: string[];
  env: Record<string, string | undefined>;
  /** The child's stdout and stderr are appended here. */
  logFile: string;
}

export interface SupervisorEvents {
  started(name: string, pid: number): void;
  exited(name: string, code: number | null, signal: string | null, restartInMs: number | null): void;
  /**
   * The child exited with one of the `fatalExitCodes`: it was not restarted. `reason` is the last
   * `conveyor: ...` line it wrote to its log in this run (what main.ts prints for an error), if any.
   */
  gaveUp(name: string, code: number, reason: string | null): void;
}

export interface SupervisorOptions {
  /** Exit codes that mean "running again unchanged fails the same way" (a bad setting, a port in use). */
  fatalExitCodes?: readonly number[];
}

const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
/** A child that ran this long is healthy again: its next crash restarts it after the minimum wait. */
const HEALTHY_AFTER_MS = 60_000;

/**
 * Runs child processes of this same program, restarting any that stops without being asked, with a
 * growing wait (1 s doubling to 30 s) so a child that cannot start does not spin. `stop()` sends
 * SIGTERM to every child (their own graceful shutdown) and resolves when all have exited.
 *
 * Children get an IPC channel so that they can stop themselves if the supervisor dies (see main.ts).
 * A child that exits with one of `fatalExitCodes` is not restarted: its configuration is wrong, and
 * restarting it would only fill its log (events.gaveUp says why, from the child's own last words).
 */
export class Supervisor {
  readonly #script: string;
  readonly #events: SupervisorEvents;
  readonly #children = new Map<string, { spec: ChildSpec; process: ChildProcess | null; backoffMs: number; timer?: NodeJS.Timeout }>();
  readonly #fatalExitCodes: ReadonlySet<number>;
  #stopping = false;

  constructor(script: string, events: SupervisorEvents, options: SupervisorOptions = {}) {
    this.#script = script;
    this.#events = events;
    this.#fatalExitCodes = new Set(options.fatalExitCodes ?? []);
  }

  add(spec: ChildSpec): void {
    this.#children.set(spec.name, { spec, process: null, backoffMs: MIN_BACKOFF_MS });
    this.#launch(spec.name);
  }

  #launch(name: string): void {
    const entry = this.#children.get(name);
    if (!entry || this.#stopping) return;
    mkdirSync(dirname(entry.spec.logFile), { recursive: true });
    const log = openSync(entry.spec.logFile, 'a');
    const logOffset = statSync(entry.spec.logFile).size;
    // This process's Node options too (a loader given with --import), so a child runs as its parent
    // does; but not a debugger's, whose port only one process can hold.
    const nodeOptions = process.execArgv.filter((option) => !option.startsWith('--inspect'));
    const child = spawn(process.execPath, [...nodeOptions, this.#script, ...entry.spec.args], {
      env: entry.spec.env,
      stdio: ['ignore', log, log, 'ipc'],
    });
    closeSync(log);
    entry.process = child;
    const startedAt = Date.now();
    if (child.pid !== undefined) this.#events.started(name, child.pid);
    child.once('exit', (code, signal) => {
      entry.process = null;
      if (this.#stopping) {
        this.#events.exited(name, code, signal, null);
        return;
      }
      if (code !== null && this.#fatalExitCodes.has(code)) {
        this.#events.gaveUp(name, code, lastErrorLine(entry.spec.logFile, logOffset));
        return;
      }
      if (Date.now() - startedAt >= HEALTHY_AFTER_MS) entry.backoffMs = MIN_BACKOFF_MS;
      const wait = entry.backoffMs;
      entry.backoffMs = Math.min(MAX_BACKOFF_MS, entry.backoffMs * 2);
      this.#events.exited(name, code, signal, wait);
      entry.timer = setTimeout(() => this.#launch(name), wait);
    });
  }

  /** Asks every child to stop gracefully; a child still running after `killAfterMs` is killed. */
  async stop(killAfterMs: number): Promise<void> {
    this.#stopping = true;
    const exits: Promise<void>[] = [];
    for (const entry of this.#children.values()) {
      clearTimeout(entry.timer);
      const child = entry.process;
      if (!child) continue;
      exits.push(
        new Promise<void>((resolve) => {
          const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
          child.once('exit', () => {
            clearTimeout(killer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
      );
    }
    await Promise.all(exits);
  }
}

/** How much of the end of a log is searched for the child's last words. */
const LAST_WORDS_BYTES = 64 * 1024;

/** The last line starting with "conveyor: " that a child appended to its log after `offset`, without the prefix. */
function lastErrorLine(logFile: string, offset: number): string | null {
  try {
    const log = readFileSync(logFile);
    const lines = log.subarray(Math.max(offset, log.length - LAST_WORDS_BYTES)).toString('utf8').split('\n');
    const last = lines.reverse().find((line) => line.startsWith('conveyor: '));
    return last === undefined ? null : last.slice('conveyor: '.length);
  } catch {
    return null;
  }
}
