import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { Engine } from '../../store/engine.ts';

/**
 * Deletes expired bearer sessions and expired one-time account tokens (invitations, password
 * resets). Both are refused once expired whether or not they are deleted; deleting them keeps the
 * tables the size of what is live rather than of every sign-in since the first.
 */
export class CredentialSweeper {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(deps: { engine: Engine; clock: Clock; logger: Logger }) {
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  async runOnce(): Promise<{ sessions: number; accountTokens: number }> {
    const now = this.#clock.now();
    const sessions = await this.#engine.sessionPruneExpired({ now });
    const accountTokens = await this.#engine.accountTokenPruneExpired({ now });
    if (sessions + accountTokens > 0) this.#logger.info({ sessions, account_tokens: accountTokens }, 'deleted expired sessions and account tokens');
    return { sessions, accountTokens };
  }
}
