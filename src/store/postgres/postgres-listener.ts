import pg from 'pg';
import type { Logger } from '../../core/logger.ts';
import { quoteIdentifier } from './sql-parts.ts';

export interface PostgresListenerOptions {
  clientConfig: pg.ClientConfig;
  channel: string;
  logger: Logger;
  onInsert: (taskType: string | null) => void;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;

/**
 * LISTEN on its own connection (a pooled one would be handed to queries and lose the LISTEN). When
 * that connection drops (server restart, network), it reconnects with backoff and then calls
 * `onInsert` once, since inserts made while it was away were missed. Notifications are only a hint:
 * workers poll anyway, so nothing is lost while it reconnects.
 */
export class PostgresListener {
  readonly #options: PostgresListenerOptions;
  #client: pg.Client | null = null;
  #closed = false;
  #retryMs = FIRST_RETRY_MS;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: PostgresListenerOptions) {
    this.#options = options;
  }

  /** Connects the first time; an error here reaches the caller (a wrong URL should not fail silently). */
  async start(): Promise<void> {
    await this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const client = this.#client;
    this.#client = null;
    if (client) await client.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#options.clientConfig);
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, null));
    client.on('notification', (message) => {
      if (message.channel !== this.#options.channel) return;
      this.#notify(message.payload ? message.payload : null);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(this.#options.channel)}`);
    } catch (error) {
      client.on('error', () => {});
      await client.end().catch(() => {});
      throw error;
    }
    // Only now does a drop of this client count as losing the listener.
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
  }

  /** A throwing callback must not break the connection's event handling. */
  #notify(taskType: string | null): void {
    try {
      this.#options.onInsert(taskType);
    } catch (error) {
      this.#options.logger.error({ err: error }, 'insert notification handler failed');
    }
  }

  #lost(client: pg.Client, error: Error | null): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = null;
    this.#options.logger.warn({ err: error ?? undefined, channel: this.#options.channel }, 'notification connection lost; reconnecting');
    client.end().catch(() => {});
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed || this.#timer) return;
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#connect().then(
        () => {
          if (this.#closed) return;
          this.#retryMs = FIRST_RETRY_MS;
          this.#options.logger.info({ channel: this.#options.channel }, 'notification connection restored');
          this.#notify(null);
        },
        (error: unknown) => {
          this.#options.logger.debug({ err: error, channel: this.#options.channel }, 'notification reconnect failed');
          this.#schedule();
        },
      );
    }, delay);
    this.#timer.unref?.();
  }
}
