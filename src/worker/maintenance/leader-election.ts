import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { Engine } from '../../store/engine.ts';

/**
 * One leader at a time among every worker sharing the database, for the jobs that must not run
 * twice at once (rescuing, pruning). The leadership is a row with an expiry: the leader renews it
 * each round, and when the leader dies another worker takes over once `ttlMs` has passed.
 */
export class LeaderElection {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #name: string;
  readonly #leaderId: string;
  readonly #ttlMs: number;
  #leader = false;

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger; name: string; leaderId: string; ttlMs: number }) {
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#name = deps.name;
    this.#leaderId = deps.leaderId;
    this.#ttlMs = deps.ttlMs;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Takes or keeps the leadership; true when this worker leads afterwards. */
  async runOnce(): Promise<boolean> {
    const leader = await this.#engine.leaderAttemptElect({ name: this.#name, leaderId: this.#leaderId, now: this.#clock.now(), ttlMs: this.#ttlMs });
    if (leader !== this.#leader) this.#logger.info({ leadership: this.#name }, leader ? `elected ${this.#name} leader` : `no longer the ${this.#name} leader`);
    this.#leader = leader;
    return leader;
  }

  /** Gives the leadership up at once, so the next worker need not wait for it to expire. */
  async resign(): Promise<void> {
    if (!this.#leader) return;
    this.#leader = false;
    await this.#engine.leaderResign({ name: this.#name, leaderId: this.#leaderId });
  }
}
