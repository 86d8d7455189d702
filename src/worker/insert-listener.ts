import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Engine } from '../store/engine.ts';
import type { WorkerEventEmitter } from './worker-events.ts';
import { WorkerService } from './worker-service.ts';

/**
 * Subscribes to the engine's insert notifications, so an idle worker claims a new task at once instead
 * of at its next poll: an insert of a type this worker handles is `tasks-available`, and a working
 * subscription is `notifications` (the poll becomes a fallback). A subscription that cannot be made
 * is tried again every `retryMs`; meanwhile the producer polls at least every second.
 */
export class InsertListener extends WorkerService {
  protected readonly name = 'insert notifications';
  readonly #engine: Engine;
  readonly #events: WorkerEventEmitter;
  readonly #handled: ReadonlySet<string>;
  readonly #retryMs: number;
  #subscription: { close(): Promise<void> } | null = null;
  #failing = false;

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger; events: WorkerEventEmitter; taskTypes: readonly string[]; retryMs: number }) {
    super(deps);
    this.#engine = deps.engine;
    this.#events = deps.events;
    this.#handled = new Set(deps.taskTypes);
    this.#retryMs = deps.retryMs;
  }

  protected maxBackoffMs(): number {
    return this.#retryMs;
  }

  protected async loop(): Promise<void> {
    while (!this.stopping) {
      await this.wait(this.#retryMs);
      if (this.stopping) return;
      await this.runOnce();
      this.recovered();
    }
  }

  /** Subscribes unless subscribed already; true when subscribed. A failure is logged, not thrown. */
  async runOnce(): Promise<boolean> {
    if (this.#subscription) return true;
    try {
      this.#subscription = await this.#engine.listen({ onInsert: this.#onInsert });
    } catch (error) {
      if (!this.#failing) this.logger.warn({ err: error }, 'could not listen for insert notifications; polling until it works');
      this.#failing = true;
      return false;
    }
    if (this.#failing) this.logger.info({}, 'listening for insert notifications again');
    this.#failing = false;
    this.#events.emit('notifications', true);
    return true;
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.#subscription?.close().catch(() => {});
    this.#subscription = null;
  }

  readonly #onInsert = (taskType: string | null): void => {
    if (taskType === null || this.#handled.has(taskType)) this.#events.emit('tasks-available');
  };
}
