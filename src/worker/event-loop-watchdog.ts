import { Worker as Thread } from 'node:worker_threads';
import type { Logger } from '../core/logger.ts';

/**
 * Two thirds of the lease, from 10 s (a loaded machine stalls a loop for seconds; that must not kill
 * workers) to 30 s: a loop blocked longer than its leases has lost them anyway.
 */
export function defaultEventLoopMaxBlockMs(leaseMs: number): number {
  return Math.min(30_000, Math.max(10_000, Math.floor((leaseMs * 2) / 3)));
}

/**
 * Runs in the watchdog's thread: reads the main thread's last heartbeat from shared memory and, when
 * it is older than the bound, writes one line to stderr (straight to the file descriptor: the main
 * thread, which would relay a thread's process.stderr, is the one that is stuck) and kills the
 * process. process.exit() here would end only this thread; a signal ends the process even while its
 * main thread spins.
 */
const WATCHDOG_SOURCE = String.raw`
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { beats, maxBlockMs, checkMs } = workerData;
const last = new Float64Array(beats);
setInterval(() => {
  const blockedMs = Date.now() - last[0];
  if (blockedMs <= maxBlockMs) return;
  try {
    writeSync(2, JSON.stringify({ level: 'fatal', time: new Date().toISOString(), pid: process.pid, blocked_ms: blockedMs, max_block_ms: maxBlockMs,
      msg: 'the event loop has been blocked for ' + blockedMs + ' ms (more than ' + maxBlockMs + ' ms): killing the worker process so that its supervisor starts a fresh one' }) + '\n');
  } catch {}
  process.kill(process.pid, 'SIGKILL');
}, checkMs);
`;

/**
 * Watches the worker's event loop from a thread of its own. The main thread stamps the time into
 * shared memory every `maxBlockMs / 10`; when the stamp is older than `maxBlockMs` (an inline
 * handler in `while (true) {}`, a huge synchronous parse) the main thread can run no JavaScript at
 * all, so nothing there could react: the watchdog kills the process instead (SIGKILL), its leases
 * expire, the rescuer hands its tasks on (counting a rescue, so a task that does this every time ends
 * in the dead letter), and the supervisor (systemd, Kubernetes, `restart: always`) starts a new
 * worker. Wall-clock time on purpose: this guards the real process, a ManualClock has no say.
 */
export class EventLoopWatchdog {
  readonly #maxBlockMs: number;
  readonly #logger: Logger;
  #thread: Thread | null = null;
  #beat: ReturnType<typeof setInterval> | null = null;

  constructor(options: { maxBlockMs: number; logger: Logger }) {
    this.#maxBlockMs = options.maxBlockMs;
    this.#logger = options.logger;
  }

  start(): void {
    if (this.#thread || this.#maxBlockMs <= 0) return;
    const beats = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
    const last = new Float64Array(beats);
    last[0] = Date.now();
    const stepMs = Math.max(10, Math.floor(this.#maxBlockMs / 10));
    this.#beat = setInterval(() => (last[0] = Date.now()), stepMs);
    this.#beat.unref();
    this.#thread = new Thread(WATCHDOG_SOURCE, { eval: true, workerData: { beats, maxBlockMs: this.#maxBlockMs, checkMs: stepMs } });
    // The watchdog must never keep a stopping worker's process alive.
    this.#thread.unref();
    this.#thread.on('error', (error) => this.#logger.error({ err: error }, 'the event-loop watchdog failed; the worker runs without it'));
  }

  async stop(): Promise<void> {
    if (this.#beat) clearInterval(this.#beat);
    this.#beat = null;
    const thread = this.#thread;
    this.#thread = null;
    await thread?.terminate();
  }
}
