/**
 * The worker process: opens one system at the Location the harness gives and runs its workers with
 * a handler that records what ran. It stays up across workloads of one run so that its start-up is
 * paid once; each start/stop pair is one workload, or a start, rearms and a stop several in a row on
 * the same running workers (the warm drain).
 */
import { findSystem } from '../systems/all-systems.ts';
import { preciseNow, type BenchSystem, type BenchTask } from '../systems/system.ts';
import { flushPgStatistics, pgQueryCount, watchPgClients } from './pg-clients.ts';
import type { HostCommand, HostEvent, WorkerReport } from './worker-protocol.ts';

let system: BenchSystem | null = null;
let current: Recorder | null = null;
let onPostgres = false;
watchPgClients();

class Recorder {
  readonly indexes: number[] = [];
  readonly latenciesMs: number[] = [];
  readonly startedAt: number[] = [];
  stray = 0;
  firstStartAt: number | null = null;
  lastStartAt: number | null = null;
  rssPeakBytes = process.memoryUsage.rss();
  readonly #seen: Uint8Array;
  #unique = 0;
  readonly #tag: string;
  readonly #expected: number;
  readonly #cpuAtStart = process.cpuUsage();
  readonly #queriesAtStart = pgQueryCount();
  readonly #sampler = setInterval(() => this.sample(), 50);

  constructor(tag: string, expected: number) {
    this.#tag = tag;
    this.#expected = expected;
    this.#seen = new Uint8Array(Math.max(expected, 1));
  }

  readonly handle = (task: BenchTask): void => {
    const now = preciseNow();
    if (task.w !== this.#tag) {
      this.stray += 1;
      return;
    }
    this.firstStartAt ??= now;
    this.lastStartAt = now;
    this.indexes.push(task.i);
    this.latenciesMs.push(now - task.t);
    this.startedAt.push(now);
    if (task.i >= 0 && task.i < this.#expected && this.#seen[task.i] === 0) {
      this.#seen[task.i] = 1;
      this.#unique += 1;
      if (this.#unique === this.#expected) send({ type: 'all-seen', at: now });
    }
  };

  sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.rssPeakBytes) this.rssPeakBytes = rss;
    return rss;
  }

  finish(): WorkerReport {
    clearInterval(this.#sampler);
    const rssAtStopBytes = this.sample();
    const cpu = process.cpuUsage(this.#cpuAtStart);
    return {
      indexes: this.indexes,
      latenciesMs: this.latenciesMs,
      startedAt: this.startedAt,
      stray: this.stray,
      firstStartAt: this.firstStartAt,
      lastStartAt: this.lastStartAt,
      rssPeakBytes: this.rssPeakBytes,
      rssAtStopBytes,
      cpuMs: (cpu.user + cpu.system) / 1000,
      statements: onPostgres ? pgQueryCount() - this.#queriesAtStart : null,
    };
  }
}

function send(event: HostEvent): void {
  process.send?.(event);
}

async function handle(command: HostCommand): Promise<void> {
  switch (command.type) {
    case 'start': {
      const started = performance.now();
      system ??= findSystem(command.systemId).open(command.location);
      onPostgres = command.location.kind === 'postgres';
      current = new Recorder(command.tag, command.expected);
      await system.startWorkers(command.concurrency, (task) => current?.handle(task));
      send({ type: 'started', startupMs: performance.now() - started });
      return;
    }
    case 'rearm': {
      const recorder = current;
      if (!recorder) throw new Error('rearm without start');
      current = new Recorder(command.tag, command.expected);
      send({ type: 'stopped', report: recorder.finish() });
      return;
    }
    case 'flush':
      send({ type: 'flushed', clients: await flushPgStatistics() });
      return;
    case 'stop': {
      await system?.stopWorkers();
      const recorder = current;
      current = null;
      if (!recorder) throw new Error('stop without start');
      send({ type: 'stopped', report: recorder.finish() });
      return;
    }
    case 'exit':
      await system?.close();
      process.exit(0);
  }
}

// One command at a time, in order: a stop never overtakes its start.
let queue: Promise<void> = Promise.resolve();
process.on('message', (command: HostCommand) => {
  queue = queue.then(() =>
    handle(command).catch((error: unknown) => {
      send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }),
  );
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
