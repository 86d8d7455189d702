import { EventEmitter } from 'node:events';
import { closeSync, openSync, watch, writeFile, type FSWatcher } from 'node:fs';
import type { Logger } from '../../core/logger.ts';

export interface InsertSubscription {
  close(): Promise<void>;
}

/**
 * Wakes idle workers soon after a task is inserted, without polling the database. SQLite has no
 * LISTEN/NOTIFY, so processes sharing a file meet at a signal file beside it (`<db>-signal`): each
 * commit that inserts tasks rewrites a few bytes of it, and listeners watch it with fs.watch
 * (inotify on Linux). A private `:memory:` database has one process, so an EventEmitter does.
 * It is a hint only: a lost event costs one poll interval, never a task.
 */
export class InsertSignal {
  readonly #path: string | null;
  readonly #logger: Logger;
  readonly #local = new EventEmitter();
  readonly #subscriptions = new Set<InsertSubscription>();
  #writeScheduled = false;
  #counter = 0;
  /** Signal writes scheduled or under way. */
  readonly #writes = new Set<Promise<void>>();

  /** `path` is the signal file, or null for an in-process signal. */
  constructor(path: string | null, logger: Logger) {
    this.#path = path;
    this.#logger = logger;
    this.#local.setMaxListeners(0);
  }

  /** Wakes idle workers for tasks of these types now waiting: one type by name, several as "any" (null). */
  wake(types: ReadonlySet<string>): void {
    if (types.size > 0) this.notify(types.size === 1 ? [...types][0]! : null);
  }

  /**
   * Called after a commit that inserted tasks; a burst of commits in one tick writes the file once.
   * The write waits for the end of the tick only: an unref'd immediate would wait for the process's
   * next timer or I/O instead (tens of milliseconds, or for ever in a process waiting on nothing else).
   */
  notify(taskType: string | null): void {
    if (this.#path === null) {
      this.#local.emit('insert', taskType);
      return;
    }
    if (this.#writeScheduled) return;
    this.#writeScheduled = true;
    const written = new Promise<void>((resolve) => {
      setImmediate(() => {
        this.#writeScheduled = false;
        this.#counter = (this.#counter + 1) % 1_000_000;
        writeFile(this.#path!, `${process.pid}:${this.#counter}\n`, (error) => {
          if (error) this.#logger.debug({ err: error, path: this.#path }, 'could not write the SQLite insert signal file');
          resolve();
        });
      });
    });
    this.#writes.add(written);
    void written.then(() => this.#writes.delete(written));
  }

  /**
   * Resolves once every signal asked for so far is written. close() waits for it: a process that
   * inserts and exits (`conveyor enqueue`) must not take its wake-up with it.
   */
  async flush(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all(this.#writes);
  }

  /**
   * Calls `onInsert` for every signal, at once: no debounce, since a worker's wake-up is cheap and
   * coalesces by itself, while every millisecond here is a millisecond of insert-to-start latency.
   */
  listen(onInsert: (taskType: string | null) => void): InsertSubscription {
    const call = (taskType: string | null) => {
      try {
        onInsert(taskType);
      } catch (error) {
        this.#logger.error({ err: error }, 'an insert listener threw');
      }
    };
    let stop: () => void;
    if (this.#path === null) {
      this.#local.on('insert', call);
      stop = () => this.#local.off('insert', call);
    } else {
      closeSync(openSync(this.#path, 'a')); // create it if missing, never truncate another's signal
      const watcher: FSWatcher = watch(this.#path, { persistent: false }, () => call(null));
      watcher.on('error', (error) => this.#logger.warn({ err: error, path: this.#path }, 'watching the SQLite insert signal file failed'));
      stop = () => watcher.close();
    }
    const subscription: InsertSubscription = {
      close: async () => {
        if (!this.#subscriptions.delete(subscription)) return;
        stop();
      },
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /** Ends every subscription, once the signals still being written are out. */
  async closeAll(): Promise<void> {
    await this.flush();
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
  }
}
