import type { Logger } from '../../core/logger.ts';
import type { EngineDriver } from '../engine.ts';

/**
 * The engine calls that change what the live dashboard shows, each with how to tell from its result
 * that it did change something (a claim that found nothing, an empty prune, changed nothing).
 */
const CHANGES: Partial<Record<keyof EngineDriver, (result: unknown) => boolean>> = {
  taskInsert: () => true,
  taskInsertMany: (r) => (r as unknown[]).length > 0,
  taskClaim: (r) => (r as unknown[]).length > 0,
  taskComplete: (r) => r === true,
  taskFail: () => true,
  taskCancelRunning: (r) => r === true,
  taskRelease: (r) => r === true,
  taskUnclaim: (r) => {
    const { released, cancelled } = r as { released: string[]; cancelled: string[] };
    return released.length + cancelled.length > 0;
  },
  taskCancel: (r) => ['cancelled', 'cancel_requested'].includes((r as { outcome: string }).outcome),
  taskRetry: (r) => (r as { outcome: string }).outcome === 'retried',
  taskDelete: (r) => r === 'deleted',
  taskRescueExpired: (r) => {
    const { retried, deadLettered, cancelled } = r as { retried: string[]; deadLettered: string[]; cancelled: string[] };
    return retried.length + deadLettered.length + cancelled.length > 0;
  },
  taskPrune: (r) => (r as number) > 0,
  breakerReset: () => true,
  typePause: () => true,
  typeResume: (r) => r === true,
  typeLimitSet: () => true,
  workerRemove: () => true,
};

/** At most one change notification per this many milliseconds, per process. */
export const CHANGE_SIGNAL_GAP_MS = 1000;

/**
 * Sends the engine's change notification after calls that changed something, at most once a second
 * per process: the first change at once (a one-off command's retry shows without delay), the rest of
 * a burst once at the end of the second. A draining worker so adds at most one tiny statement a
 * second, outside every task's transaction, whatever its throughput. Real time, not a Clock: this is
 * a rate limit on hints, not a rule of the lifecycle.
 */
export class ChangeSignal {
  readonly #send: () => Promise<void>;
  readonly #log: Logger;
  #lastSentMs = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;

  constructor(send: () => Promise<void>, log: Logger) {
    this.#send = send;
    this.#log = log;
  }

  /** Called after every successful engine call with its result. */
  after(method: string, result: unknown): void {
    const changed = CHANGES[method as keyof EngineDriver];
    if (!changed?.(result) || this.#timer) return;
    const waitMs = this.#lastSentMs + CHANGE_SIGNAL_GAP_MS - Date.now();
    if (waitMs <= 0) this.#fire();
    else {
      this.#timer = setTimeout(() => this.#fire(), waitMs);
      this.#timer.unref();
    }
  }

  /** Sends a notification still waiting for its second, then waits for the one under way. */
  async flush(): Promise<void> {
    if (this.#timer) this.#fire();
    await this.#inFlight;
  }

  #fire(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#lastSentMs = Date.now();
    const sent = this.#send()
      .catch((error: unknown) => this.#log.debug({ err: error }, 'could not send the change notification'))
      .finally(() => {
        if (this.#inFlight === sent) this.#inFlight = null;
      });
    this.#inFlight = sent;
  }
}
