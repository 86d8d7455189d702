import { EventEmitter } from 'node:events';
import { closeSync, openSync, watch, writeFile, type FSWatcher } from 'node:fs';
import type { Logger } from '../../core/logger.ts';

/** Events closer together than this reach a listener as one call. */
const DEBOUNCE_MS = 5;

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

  /** `path` is the signal file, or null for an in-process signal. */
  constructor(path: string | null, logger: Logger) {
    this.#path = path;
    this.#logger = logger;
    this.#local.setMaxListeners(0);
  }

  /** Called after a commit that inserted tasks; a burst of commits in one tick writes the file once. */
  notify(taskType: string | null): void {
    if (this.#path === null) {
      this.#local.emit('insert', taskType);
      return;
    }
    if (this.#writeScheduled) return;
    this.#writeScheduled = true;
    setImmediate(() => {
      this.#writeScheduled = false;
      this.#counter = (this.#counter + 1) % 1_000_000;
      writeFile(this.#path!, `${process.pid}:${this.#counter}\n`, (error) => {
        if (error) this.#logger.debug({ err: error, path: this.#path }, 'could not write the SQLite insert signal file');
      });
    }).unref();
  }

  listen(onInsert: (taskType: string | null) => void): InsertSubscription {
    const debounced = debounce((taskType) => {
      try {
        onInsert(taskType);
      } catch (error) {
        this.#logger.error({ err: error }, 'an insert listener threw');
      }
    });
    let stop: () => void;
    if (this.#path === null) {
      this.#local.on('insert', debounced.call);
      stop = () => this.#local.off('insert', debounced.call);
    } else {
      closeSync(openSync(this.#path, 'a')); // create it if missing, never truncate another's signal
      const watcher: FSWatcher = watch(this.#path, { persistent: false }, () => debounced.call(null));
      watcher.on('error', (error) => this.#logger.warn({ err: error, path: this.#path }, 'watching the SQLite insert signal file failed'));
      stop = () => watcher.close();
    }
    const subscription: InsertSubscription = {
      close: async () => {
        if (!this.#subscriptions.delete(subscription)) return;
        stop();
        debounced.cancel();
      },
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
  }
}

/** Coalesces calls within DEBOUNCE_MS; the task type survives only when every coalesced call agreed. */
function debounce(target: (taskType: string | null) => void): { call: (taskType: string | null) => void; cancel: () => void } {
  let timer: NodeJS.Timeout | null = null;
  let pendingType: string | null = null;
  return {
    call: (taskType) => {
      if (timer !== null) {
        if (pendingType !== taskType) pendingType = null;
        return;
      }
      pendingType = taskType;
      timer = setTimeout(() => {
        timer = null;
        target(pendingType);
      }, DEBOUNCE_MS);
    },
    cancel: () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
