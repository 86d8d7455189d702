/**
 * The thread side of sqlite-thread.ts: opens the SQLite driver on this thread and answers the calls
 * the worker's main thread posts, in batches. A turn's answers go back as one message, so that a
 * worker finishing hundreds of tasks a second posts a few messages, not hundreds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from '../../core/logger.ts';
import type { EngineDriver } from '../engine.ts';
import { sqliteDriver } from './sqlite-engine.ts';
import { encodeThreadError, type HostMessage, type MainMessage, type ThreadOptions } from './sqlite-thread-messages.ts';

const port = parentPort!;
const options = workerData as ThreadOptions;

/** Log lines go to the main thread's logger, with the bindings of the child that wrote them. */
function forwardingLogger(bindings: Record<string, unknown>): Logger {
  const log = (level: 'debug' | 'info' | 'warn' | 'error') => (obj: object, msg?: string) => post({ type: 'log', level, bindings, obj: cloneable(obj), msg });
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: (more) => forwardingLogger({ ...bindings, ...more }) };
}

/** What a log line's fields become when they cannot be posted as they are (a function in them, say). */
function cloneable(obj: object): object {
  try {
    structuredClone(obj);
    return obj;
  } catch {
    return { fields: String(obj) };
  }
}

let outbox: HostMessage[] = [];
let results: [number, boolean, unknown][] = [];
let scheduled = false;

function post(message: HostMessage): void {
  outbox.push(message);
  schedule();
}

function answer(id: number, ok: boolean, value: unknown): void {
  results.push([id, ok, value]);
  schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(flush);
}

function flush(): void {
  scheduled = false;
  if (results.length > 0) {
    outbox.push({ type: 'results', results });
    results = [];
  }
  const messages = outbox;
  outbox = [];
  for (const message of messages) {
    try {
      port.postMessage(message);
    } catch (error) {
      // An answer that cannot be posted fails its call instead of losing it.
      if (message.type !== 'results') continue;
      for (const [id, ok, value] of message.results) {
        try {
          port.postMessage({ type: 'results', results: [[id, ok, value]] } satisfies HostMessage);
        } catch {
          port.postMessage({ type: 'results', results: [[id, false, encodeThreadError(error)]] } satisfies HostMessage);
        }
      }
    }
  }
}

const driver: EngineDriver = sqliteDriver({ filename: options.filename, logger: forwardingLogger({}), ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }) });
const subscriptions = new Map<number, { close(): Promise<void> }>();

async function call(method: string, p: unknown): Promise<unknown> {
  const run = (driver as unknown as Record<string, (p: unknown) => Promise<unknown>>)[method];
  if (typeof run !== 'function') throw new Error(`the SQLite thread has no method ${method}`);
  return run.call(driver, p);
}

port.on('message', (message: MainMessage) => {
  if (message.type === 'calls') {
    for (const [id, method, p] of message.calls) {
      const params = method === 'taskFail' ? withDrawnRandom(p as { randomValues?: number[] }) : p;
      call(method, params).then(
        (value) => answer(id, true, value),
        (error: unknown) => answer(id, false, encodeThreadError(error)),
      );
    }
  } else if (message.type === 'listen') {
    const onEvent = (arg: unknown) => post({ type: 'event', subscription: message.subscription, arg: arg ?? null });
    const listening = message.kind === 'insert' ? driver.listen({ onInsert: onEvent }) : driver.changeListen({ onChange: () => onEvent(null) });
    listening.then(
      (subscription) => {
        subscriptions.set(message.subscription, subscription);
        answer(message.id, true, null);
      },
      (error: unknown) => answer(message.id, false, encodeThreadError(error)),
    );
  } else if (message.type === 'unlisten') {
    const subscription = subscriptions.get(message.subscription);
    subscriptions.delete(message.subscription);
    (subscription ? subscription.close() : Promise.resolve()).then(
      () => answer(message.id, true, null),
      (error: unknown) => answer(message.id, false, encodeThreadError(error)),
    );
  } else if (message.type === 'close') {
    driver.close().then(
      () => {
        answer(message.id, true, null);
        flush();
      },
      (error: unknown) => answer(message.id, false, encodeThreadError(error)),
    );
  }
});

/** taskFail's jitter source cannot cross threads: the main thread drew its values, handed out here in turn. */
function withDrawnRandom(p: { randomValues?: number[] }): unknown {
  const { randomValues, ...rest } = p;
  if (randomValues === undefined) return rest;
  let next = 0;
  return { ...rest, random: () => randomValues[next++ % randomValues.length]! };
}
