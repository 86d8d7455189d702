interface Waiting<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: calls made while earlier ones are still at the database are sent together as one
 * statement when a slot frees up. An idle engine sends each call at once (no added latency); a busy
 * one sends fewer, bigger statements (fewer round trips and commits), which is where queue
 * throughput comes from. Items with the same key never share a batch, so each gets its own answer
 * (the same lease completed twice must apply once).
 *
 * `collectTurn` holds the first item of an idle batcher until the end of the event loop's turn, so
 * that what else is submitted in that turn goes with it: for SQLite, whose synchronous driver would
 * otherwise finish each statement before the next item arrives (one commit per item). PostgreSQL's
 * round trips make the batches on their own.
 *
 * The one completion batcher of both engines.
 */
export class GroupCommit<I, R> {
  readonly #send: (items: I[]) => Promise<R[]>;
  readonly #keyOf: (item: I) => string;
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  #queue: Waiting<I, R>[] = [];
  #inFlight = 0;
  #idle: (() => void)[] = [];
  readonly #collectTurn: boolean;
  #collecting = false;

  constructor(options: { send: (items: I[]) => Promise<R[]>; keyOf: (item: I) => string; maxInFlight: number; maxBatch: number; collectTurn?: boolean }) {
    this.#collectTurn = options.collectTurn === true;
    this.#send = options.send;
    this.#keyOf = options.keyOf;
    this.#maxInFlight = options.maxInFlight;
    this.#maxBatch = options.maxBatch;
  }

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#collectTurn || this.#inFlight > 0) this.#pump();
      else if (!this.#collecting) {
        this.#collecting = true;
        setImmediate(this.#endOfTurn);
      }
    });
  }

  /** Resolves once everything submitted so far has been sent and answered (what is being collected is sent now). */
  drain(): Promise<void> {
    if (this.#inFlight === 0 && this.#queue.length === 0) return Promise.resolve();
    const idle = new Promise<void>((resolve) => this.#idle.push(resolve));
    this.#pump();
    return idle;
  }

  readonly #endOfTurn = (): void => {
    this.#collecting = false;
    this.#pump();
  };

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch: Waiting<I, R>[] = [];
      const rest: Waiting<I, R>[] = [];
      const keys = new Set<string>();
      for (const waiting of this.#queue) {
        const key = this.#keyOf(waiting.item);
        if (batch.length < this.#maxBatch && !keys.has(key)) {
          keys.add(key);
          batch.push(waiting);
        } else {
          rest.push(waiting);
        }
      }
      this.#queue = rest;
      this.#inFlight++;
      this.#send(batch.map((waiting) => waiting.item))
        .then(
          (results) => batch.forEach((waiting, index) => waiting.resolve(results[index]!)),
          (error: unknown) => batch.forEach((waiting) => waiting.reject(error)),
        )
        .finally(() => {
          this.#inFlight--;
          this.#pump();
          if (this.#inFlight === 0 && this.#queue.length === 0) this.#idle.splice(0).forEach((resolve) => resolve());
        });
    }
  }
}
