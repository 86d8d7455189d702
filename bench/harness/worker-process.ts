import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Location } from '../systems/system.ts';
import type { HostCommand, HostEvent, WorkerReport } from './worker-protocol.ts';

const HOST = fileURLToPath(new URL('./worker-host.ts', import.meta.url));

/** BENCH_CPU_PROF=<dir> profiles every worker process (`node --cpu-prof`), one .cpuprofile per process. */
export function childExecArgv(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--import', 'tsx', '--cpu-prof', '--cpu-prof-dir', dir] : ['--import', 'tsx'];
}

/** The harness's handle on one worker process (see worker-host.ts). */
export class WorkerProcess {
  readonly #child: ChildProcess;
  readonly #waiters: { type: HostEvent['type']; resolve: (event: HostEvent) => void; reject: (error: Error) => void }[] = [];
  #stderr = '';
  #exitError: Error | null = null;
  #allSeenAt: number | null = null;
  #onAllSeen: ((at: number) => void) | null = null;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
    });
    child.on('message', (event: HostEvent) => this.#receive(event));
    child.on('exit', (code) => {
      this.#exitError = new Error(`worker process exited (code ${code}): ${this.#stderr.trim() || 'no output'}`);
      for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#exitError);
      this.#onAllSeen?.(Number.NaN);
    });
  }

  static async spawn(): Promise<WorkerProcess> {
    const child = fork(HOST, [], { execArgv: childExecArgv(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const process = new WorkerProcess(child);
    await process.#next('ready');
    return process;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Starts the system's workers; resolves once they run, with how long their start-up took. */
  async start(p: { systemId: string; location: Location; concurrency: number; tag: string; expected: number }): Promise<number> {
    this.#allSeenAt = null;
    const started = this.#next('started');
    this.#send({ type: 'start', ...p });
    const event = await started;
    return event.type === 'started' ? event.startupMs : 0;
  }

  /** Resolves with the time every expected task had started, or null after `timeoutMs`. */
  allSeen(timeoutMs: number): Promise<number | null> {
    if (this.#allSeenAt !== null) return Promise.resolve(this.#allSeenAt);
    if (this.#exitError) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#onAllSeen = null;
        resolve(null);
      }, timeoutMs);
      this.#onAllSeen = (at) => {
        clearTimeout(timer);
        this.#onAllSeen = null;
        // NaN: the process exited first.
        resolve(Number.isNaN(at) ? null : at);
      };
    });
  }

  async stop(): Promise<WorkerReport> {
    return this.#report({ type: 'stop' });
  }

  /** Ends the current workload's record (its report) and starts recording the next, the workers running on. */
  async rearm(p: { tag: string; expected: number }): Promise<WorkerReport> {
    this.#allSeenAt = null;
    return this.#report({ type: 'rearm', ...p });
  }

  /** Makes the process's PostgreSQL connections publish their pending statistics now. */
  async flushStatistics(): Promise<void> {
    const flushed = this.#next('flushed');
    this.#send({ type: 'flush' });
    await flushed;
  }

  async #report(command: HostCommand): Promise<WorkerReport> {
    const stopped = this.#next('stopped');
    this.#send(command);
    const event = await stopped;
    if (event.type !== 'stopped') throw new Error('unexpected event');
    return event.report;
  }

  async exit(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#send({ type: 'exit' });
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }

  #send(command: HostCommand): void {
    if (this.#child.connected) this.#child.send(command);
  }

  #next(type: HostEvent['type']): Promise<HostEvent> {
    if (this.#exitError) return Promise.reject(this.#exitError);
    return new Promise((resolve, reject) => this.#waiters.push({ type, resolve, reject }));
  }

  #receive(event: HostEvent): void {
    if (event.type === 'all-seen') {
      this.#allSeenAt = event.at;
      this.#onAllSeen?.(event.at);
      return;
    }
    if (event.type === 'error') {
      const error = new Error(`worker process: ${event.message}`);
      for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
      return;
    }
    const index = this.#waiters.findIndex((waiter) => waiter.type === event.type);
    if (index >= 0) this.#waiters.splice(index, 1)[0]!.resolve(event);
  }
}
