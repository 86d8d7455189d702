/**
 * Wakes one waiting loop. A notify() that arrives while nobody waits is remembered, so an event that
 * lands during a claim (a task inserted just after the claim looked) is never missed.
 */
export class WakeSignal {
  #pending = false;
  #wake: (() => void) | null = null;

  notify(): void {
    const wake = this.#wake;
    if (wake) {
      this.#wake = null;
      wake();
    } else {
      this.#pending = true;
    }
  }

  /** Resolves true when notified, false when `timeoutMs` passed first. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve(false);
      }, timeoutMs);
      this.#wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}
