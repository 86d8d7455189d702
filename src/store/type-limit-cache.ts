/** How stale the list of limited task types may be: a new or removed limit applies within this. */
export const LIMITS_REFRESH_MS = 1000;
/** While tasks of a type at its limit wait, idle workers look again this often (a slot may free elsewhere). */
export const LIMIT_RECHECK_MS = 500;

const NONE: readonly string[] = Object.freeze([]);

/**
 * Which task types have a concurrency limit, as each engine's claim needs to know before choosing its
 * statement: most claims involve none, and keep the one-statement path. The list is read again when it
 * is more than a second old, and the claim waits for it: a worker that idled for a while must not
 * claim by the list it had before a limit was set. A busy worker so pays one small read a second.
 */
export class TypeLimitCache {
  readonly #load: () => Promise<string[]>;
  #limited = new Set<string>();
  #loadedAt = -Infinity;
  #loading: Promise<void> | null = null;
  /** Counts changes made through this engine, so that a read begun before one does not count as current. */
  #generation = 0;
  #loadedGeneration = -1;

  constructor(load: () => Promise<string[]>) {
    this.#load = load;
  }

  /** The types of `types` that have a limit, by a list read at most a second before `now` (the caller's clock). */
  async limitedAmong(types: readonly string[], now: Date): Promise<readonly string[]> {
    // Twice at most: once for a read already on its way when a change was made here, once for a fresh one.
    for (let round = 0; round < 2 && !this.#current(now.getTime()); round++) {
      this.#refresh(now.getTime());
      await this.#loading;
    }
    if (this.#limited.size === 0) return NONE;
    return types.filter((type) => this.#limited.has(type));
  }

  /** A limit changed through this engine: the next claim reads the list again. */
  invalidate(): void {
    this.#generation += 1;
  }

  #current(nowMs: number): boolean {
    const age = nowMs - this.#loadedAt;
    return this.#loadedGeneration === this.#generation && age >= 0 && age < LIMITS_REFRESH_MS;
  }

  #refresh(nowMs: number): void {
    if (this.#loading) return;
    const generation = this.#generation;
    this.#loading = this.#load()
      .then((types) => {
        this.#limited = new Set(types);
        this.#loadedAt = nowMs;
        this.#loadedGeneration = generation;
      })
      // The last list stands (none, the first time); the claim goes on without a fresh one.
      .catch(() => {})
      .finally(() => {
        this.#loading = null;
      });
  }
}
