/**
 * A small synchronous event emitter whose events and their arguments are checked by the compiler.
 * `Events` maps each event name to the tuple of arguments its listeners get. Listeners run in the order
 * they were added, synchronously, inside emit(); one that throws does not stop the others (its error
 * goes to `onListenerError`), so an observer can never break the worker that emits.
 */
export class TypedEmitter<Events extends { [name: string]: unknown[] }> {
  readonly #listeners = new Map<keyof Events, unknown[]>();
  readonly #onListenerError: (error: unknown, event: keyof Events) => void;

  constructor(onListenerError: (error: unknown, event: keyof Events) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /** Adds a listener; returns the function that removes it. */
  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): () => void {
    const list = this.#listeners.get(event) ?? [];
    // A new array on every change, so an emit in progress keeps iterating the list it started with.
    this.#listeners.set(event, [...list, listener]);
    return () => this.off(event, listener);
  }

  off<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): void {
    const list = this.#listeners.get(event);
    if (!list) return;
    const kept = list.filter((l) => l !== listener);
    if (kept.length === 0) this.#listeners.delete(event);
    else this.#listeners.set(event, kept);
  }

  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    const list = this.#listeners.get(event) as Array<(...args: Events[E]) => void> | undefined;
    if (list === undefined) return;
    for (const listener of list) {
      try {
        listener(...args);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }
}
