import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { Engine } from '../../store/engine.ts';

/**
 * Forgets workers that stopped sending heartbeats (killed, or on a machine that went away), so the
 * dashboard's list of workers shows the living. Their tasks are the rescuer's business, not ours.
 */
export class WorkerReaper {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #staleMs: number;

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger; staleMs: number }) {
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#staleMs = deps.staleMs;
  }

  async runOnce(): Promise<string[]> {
    const cutoff = this.#clock.nowMs() - this.#staleMs;
    const stale = (await this.#engine.workerList()).filter((worker) => worker.lastHeartbeatAt.getTime() < cutoff);
    for (const worker of stale) {
      await this.#engine.workerRemove({ id: worker.id });
      this.#logger.info({ stale_worker_id: worker.id, last_heartbeat_at: worker.lastHeartbeatAt.toISOString() }, 'removed a worker that stopped sending heartbeats');
    }
    return stale.map((worker) => worker.id);
  }
}
