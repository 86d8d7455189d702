/** How stale the list of limited task types may be: a new or removed limit applies within this. */
export const LIMITS_REFRESH_MS = 1000;
/** While tasks of a type at its limit wait, idle workers look again this often (a slot may free elsewhere). */
export const LIMIT_RECHECK_MS = 500;

const NONE: readonly string[] = Object.freeze([]);

/**
 * Which task types have a concurrency limit, as each engine's claim needs to know before choosing its
 * statement: most claims involve none, and keep the one-statement path. Read at the first claim, then
 * refreshed in the background at most once a second, so no claim waits for it after the first; a
 * limit changed through this engine is waited for at the next claim.
 */
export class TypeLimitCache {
  readonly #load: () => Promise<string[]>;
  #limited = new Set<string>();
  #loadedAt = -Infinity;
  #loading: Promise<void> | null = null;
  /** The list is current: loaded, and no change made here since that load began. */
  #ready = false;
  /** Counts changes made here, so that a load begun before one does not count as current. */
  #generation = 0;

  constructor(load: () => Promise<string[]>) {
    this.#load = load;
  }

  /** The types of `types` that have a limit. */
  async limitedAmong(types: readonly string[]): Promise<readonly string[]> {
    if (performance.now() - this.#loadedAt >= LIMITS_REFRESH_MS) this.#refresh();
    // Twice at most: once for a load already on its way when a change was made, once for a fresh one.
    for (let round = 0; !this.#ready && round < 2; round++) {
      this.#refresh();
      await this.#loading;
    }
    if (this.#limited.size === 0) return NONE;
    return types.filter((type) => this.#limited.has(type));
  }

  /** A limit changed through this engine: the next claim reads the list again, and waits for it. */
  invalidate(): void {
    this.#generation += 1;
    this.#loadedAt = -Infinity;
    this.#ready = false;
  }

  #refresh(): void {
    if (this.#loading) return;
    const generation = this.#generation;
    this.#loading = this.#load()
      .then((types) => {
        this.#limited = new Set(types);
        if (generation === this.#generation) this.#ready = true;
      })
      // The last list stands (none, the first time: claims then ignore limits until it loads).
      .catch(() => {})
      .finally(() => {
        this.#loadedAt = performance.now();
        this.#loading = null;
      });
  }
}
