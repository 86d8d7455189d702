import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_PATH, processState, WorkerProcess, type LogLine } from '../helpers/worker-process.ts';
import { trackGroup, untrackGroup } from './cleanup.ts';
import { violation, type Violation } from './invariants.ts';

export const CHAOS_TASKS_PATH = join(dirname(fileURLToPath(import.meta.url)), 'chaos-tasks.ts');

/**
 * Short leases so that a killed or frozen worker's tasks come back within seconds, yet long enough
 * that a live worker on a loaded two-core machine keeps its leases.
 */
export const CHAOS_WORKER_ENV: Readonly<Record<string, string>> = {
  CONVEYOR__WORKER__CONCURRENCY: '10',
  CONVEYOR__WORKER__LEASE_MS: '5000',
  CONVEYOR__WORKER__HEARTBEAT_MS: '1000',
  CONVEYOR__WORKER__MAINTENANCE_INTERVAL_MS: '500',
  CONVEYOR__WORKER__POLL_INTERVAL_MS: '500',
  CONVEYOR__WORKER__SHUTDOWN_GRACE_MS: '3000',
};

/** What a fleet checks of its processes: none dies or freezes on its own, all alive at the end, all stop on SIGTERM. */
export const FLEET_INVARIANTS = 4;

/** One real `conveyor <command>` process in a slot the supervisor keeps filled. */
export interface Member {
  slot: number;
  process: WorkerProcess;
  startedAt: number;
  /** The suite killed it on purpose: its death is no finding. */
  doomed: boolean;
  /** The suite stopped it (SIGSTOP); it is not frozen by itself. */
  paused: boolean;
}

export interface ExitRecord {
  slot: number;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  why: string;
  /** The worker's event-loop watchdog killed it (a handler blocked its thread past the bound). */
  watchdog: boolean;
}

/**
 * Deaths a scenario expects: a poison handler that runs inline (in the worker's own thread) and calls
 * process.exit or blocks the event loop takes its worker down by design; what must hold is that it
 * does so a bounded number of times (the rescue cap) and in its own way only.
 */
export interface ExpectedDeaths {
  /** Whether this death is one a poison causes (its exit code, the watchdog's kill). */
  causedByPoison(exit: ExitRecord): boolean;
  /** At most this many such deaths in all. */
  max: number;
}

export interface FleetOptions {
  /** `work` or `serve`. */
  command: 'work' | 'serve';
  count: number;
  env: Record<string, string>;
  cwd: string;
  /** Restart a member that died (after this many ms); the suite's supervisor, as systemd would be. */
  restartDelayMs?: number;
}

/**
 * N processes of one kind, each in its own process group, restarted when they die. Deaths the suite
 * caused (`kill`) are counted as kills; any other exit is recorded with the process's last error line,
 * because a worker must never die of a task or of a database restart.
 */
export class Fleet {
  readonly members: Member[] = [];
  readonly unexpectedExits: ExitRecord[] = [];
  readonly frozen: ExitRecord[] = [];
  /** Every process ever started, for the logs a report may quote. */
  readonly history: WorkerProcess[] = [];
  kills = 0;
  restarts = 0;
  #stopping = false;
  readonly #options: FleetOptions;

  constructor(options: FleetOptions) {
    this.#options = options;
  }

  start(): void {
    for (let slot = 0; slot < this.#options.count; slot++) this.#spawn(slot);
  }

  #spawn(slot: number): Member {
    const args = [CLI_PATH, this.#options.command];
    const child = spawn(process.execPath, args, {
      cwd: this.#options.cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        CONVEYOR__LOG__LEVEL: 'info',
        CONVEYOR__TASKS__MODULES: CHAOS_TASKS_PATH,
        ...this.#options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: the suite can kill it and anything it starts in one signal.
      detached: true,
    });
    const process_ = new WorkerProcess(child);
    trackGroup(process_.pid);
    this.history.push(process_);
    const member: Member = { slot, process: process_, startedAt: Date.now(), doomed: false, paused: false };
    this.members[slot] = member;
    void process_.exited.then(({ code, signal }) => {
      untrackGroup(process_.pid);
      if (!member.doomed && !this.#stopping) {
        this.unexpectedExits.push({ slot, pid: process_.pid, code, signal, why: lastError(process_), watchdog: killedByWatchdog(process_) });
      }
      if (this.#stopping || this.members[slot] !== member) return;
      setTimeout(() => {
        if (this.#stopping || this.members[slot] !== member) return;
        this.restarts += 1;
        this.#spawn(slot);
      }, this.#options.restartDelayMs ?? 500);
    });
    return member;
  }

  live(): Member[] {
    return this.members.filter((member) => member.process.running);
  }

  /** SIGKILLs a member on purpose (the supervisor restarts it). */
  kill(member: Member): void {
    if (!member.process.running) return;
    member.doomed = true;
    this.kills += 1;
    member.process.signal('SIGKILL');
  }

  pause(member: Member): void {
    member.paused = true;
    member.process.signal('SIGSTOP');
  }

  resume(member: Member): void {
    member.process.signal('SIGCONT');
    member.paused = false;
  }

  /**
   * A member whose heartbeat stopped while it was neither paused by us nor dead is frozen (a handler
   * that never yields): recorded, killed and restarted, so that the scenario can go on.
   */
  reapFrozen(lastHeartbeatByPid: Map<number, number>, staleMs: number): void {
    const now = Date.now();
    for (const member of this.live()) {
      if (member.paused || now - member.startedAt < staleMs) continue;
      const last = lastHeartbeatByPid.get(member.process.pid);
      if (last === undefined || now - last < staleMs) continue;
      this.frozen.push({ slot: member.slot, pid: member.process.pid, code: null, signal: null, watchdog: false, why: `no heartbeat for ${Math.round((now - last) / 1000)} s (process state ${processState(member.process.pid)}); killed by the suite` });
      member.doomed = true;
      member.process.signal('SIGKILL');
    }
  }

  /**
   * Stops every member with SIGTERM as an operator would; one that does not exit within `graceMs` is
   * SIGKILLed (its process group) and recorded. Returns the violations: members that were not
   * alive at the end, or did not stop cleanly.
   */
  async stop(graceMs = 15_000): Promise<Violation[]> {
    this.#stopping = true;
    const found: Violation[] = [];
    const dead = this.members.filter((member) => !member.process.running);
    if (dead.length > 0) found.push(violation('every-worker-alive', dead.map((m) => String(m.process.pid)), `${dead.length} ${this.#options.command} processes dead at the end`));
    const unclean: string[] = [];
    await Promise.all(
      this.members.map(async (member) => {
        if (!member.process.running) return;
        member.process.signal('SIGCONT');
        // A process restarted a moment ago may still be loading: its signal handlers are set before its first line.
        await member.process.waitForLog(() => true, 30_000, 'its first log line').catch(() => undefined);
        member.process.signal('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([member.process.exited, new Promise<null>((resolve) => (timer = setTimeout(resolve, graceMs, null)))]);
        clearTimeout(timer);
        if (outcome === null || outcome.code !== 0) unclean.push(`${member.process.pid} (${outcome === null ? `still running after SIGTERM + ${graceMs / 1000} s` : `exit ${outcome.code ?? outcome.signal}`})`);
        if (outcome === null) {
          try {
            process.kill(-member.process.pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
          await member.process.exited;
        }
      }),
    );
    if (unclean.length > 0) found.push(violation('workers-stop-cleanly', unclean.map((u) => u.split(' ')[0]!), `${this.#options.command} processes that did not stop on SIGTERM: ${unclean.join(', ')}`));
    return found;
  }

  /** The deaths that `expected` explains, within its bound. */
  poisonDeaths(expected: ExpectedDeaths | null): ExitRecord[] {
    return expected === null ? [] : this.unexpectedExits.filter((exit) => expected.causedByPoison(exit)).slice(0, expected.max);
  }

  /** Violations for the deaths and freezes the suite did not cause (deaths of a poison's own doing, within their bound, excepted). */
  findings(expected: ExpectedDeaths | null = null): Violation[] {
    const found: Violation[] = [];
    const excused = new Set(this.poisonDeaths(expected));
    const deaths = this.unexpectedExits.filter((exit) => !excused.has(exit));
    if (deaths.length > 0) {
      const reasons = [...new Set(deaths.map((exit) => `exit ${exit.code ?? exit.signal}: ${exit.why}`))].slice(0, 3);
      const beyond = expected === null ? '' : `, beyond the ${excused.size} of at most ${expected.max} a poison may cause`;
      found.push(violation('no-worker-dies', deaths.map((e) => String(e.pid)), `${deaths.length} ${this.#options.command} processes died on their own${beyond} (${reasons.join(' | ')})`));
    }
    if (this.frozen.length > 0) {
      found.push(violation('no-worker-freezes', this.frozen.map((f) => String(f.pid)), `${this.frozen.length} ${this.#options.command} processes froze: ${this.frozen[0]!.why}`));
    }
    return found;
  }

  /** Every log line of every process ever started that matches. */
  linesMatching(match: (line: LogLine) => boolean): LogLine[] {
    return this.history.flatMap((process_) => process_.lines.filter(match));
  }
}

/** The event-loop watchdog says so on stderr before it kills its process. */
function killedByWatchdog(process_: WorkerProcess): boolean {
  const said = (text: string | undefined) => text?.includes('the event loop has been blocked') === true;
  return said(process_.stderr) || process_.lines.some((line) => said(line.msg));
}

/** What a process said about its own death (an uncaught exception, ...), or its stderr's last line. */
function lastError(process_: WorkerProcess): string {
  const line = [...process_.lines].reverse().find((l) => /uncaught|unhandled|exiting|fatal/i.test(l.msg ?? ''));
  if (line) {
    const err = line.err as { message?: string; code?: string } | undefined;
    return `${line.msg ?? ''}${err?.message ? `: ${err.message}` : ''}${err?.code ? ` (${err.code})` : ''}`.slice(0, 200);
  }
  const stderr = process_.stderr.trim().split('\n').at(-1) ?? '';
  return stderr.slice(0, 200) || 'no error logged';
}
