import { API_BASE, sessionEnded } from './api.js';

/**
 * The live connection: GET /events read with fetch() and a streaming body, so the bearer token goes
 * in a header (EventSource cannot send one, and a token in the URL would land in logs). Reconnects
 * with backoff; each (re)connection is announced so pages can catch up on what they missed.
 */
export class LiveEvents {
  #token;
  #listeners = new Map();
  #controller = null;
  #stopped = false;
  #wasLive = false;
  status = 'connecting';

  constructor(token) {
    this.#token = token;
  }

  /** @param {string} event  hello, stats, tasks, monitor, status, reconnected @returns {() => void} unsubscribe */
  on(event, listener) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(listener);
    return () => this.#listeners.get(event)?.delete(listener);
  }

  start() {
    void this.#run();
    return this;
  }

  stop() {
    this.#stopped = true;
    this.#controller?.abort();
  }

  #emit(event, data) {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        listener(data);
      } catch (error) {
        console.error(`live ${event} listener failed`, error);
      }
    }
  }

  #setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.#emit('status', status);
  }

  async #run() {
    let backoff = 1000;
    while (!this.#stopped) {
      this.#controller = new AbortController();
      try {
        const response = await fetch(`${API_BASE}/events`, {
          headers: { authorization: `Bearer ${this.#token}`, accept: 'text/event-stream' },
          signal: this.#controller.signal,
          cache: 'no-store',
        });
        if (response.status === 401) {
          sessionEnded();
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        this.#setStatus('live');
        // Pages catch up on what they missed while the stream was down.
        if (this.#wasLive) this.#emit('reconnected', null);
        this.#wasLive = true;
        backoff = 1000;
        await this.#read(response.body);
      } catch (error) {
        if (this.#stopped) return;
        console.warn('live updates interrupted', error);
      }
      if (this.#stopped) return;
      this.#setStatus('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, 15_000);
    }
  }

  async #read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        this.#dispatch(frame);
      }
    }
  }

  #dispatch(frame) {
    let event = 'message';
    const data = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) return;
    let parsed;
    try {
      parsed = JSON.parse(data.join('\n'));
    } catch {
      return;
    }
    if (event === 'session_ended') {
      this.stop();
      sessionEnded(parsed.reason);
      return;
    }
    this.#emit(event, parsed);
  }
}
