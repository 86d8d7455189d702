import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import { ENGINE_METHODS } from '../dispatch/dispatch-engine.ts';
import type { Engine, EngineDriver } from '../engine.ts';
import { type ClaimedRows, type ClaimParams, decodeClaim } from './claim.ts';
import { SQLITE_CAPABILITIES } from './sqlite-connection.ts';
import { decodeThreadError, type HostMessage, type MainMessage, type ThreadError, type ThreadOptions } from './sqlite-thread-messages.ts';

/**
 * The SQLite driver on a thread of its own, for worker processes. better-sqlite3 runs every statement
 * on the calling thread, so a worker on one thread spends most of a no-op drain inside SQLite while
 * its handlers wait, and its handlers' JavaScript while SQLite waits. Here the claims and completions
 * run on the SQLite thread while the main thread runs handlers: two cores instead of one. Every call is
 * the same driver method run by the same code; the calls of one turn cross as one message, and so do
 * their answers. The API keeps the driver on its own thread: its calls are few and want no hop.
 */
export function sqliteThreadDriver(options: ThreadOptions & { logger?: Logger | undefined }): EngineDriver {
  const logger = options.logger ?? silentLogger;
  const thread = new Worker(BOOTSTRAP, {
    eval: true,
    workerData: { filename: options.filename, busyTimeoutMs: options.busyTimeoutMs, hostUrl: HOST_URL, tsxApi: HOST_URL.endsWith('.ts') ? TSX_API : null },
  });
  // Like the engine on the caller's thread (its file watchers are not persistent), an open engine
  // does not keep the process alive: only a call waiting for its answer does.
  thread.unref();
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const settle = (id: number) => {
    const waiting = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) thread.unref();
    return waiting;
  };
  const listeners = new Map<number, (arg: unknown) => void>();
  let nextId = 0;
  let outbox: [number, string, unknown][] = [];
  let scheduled = false;
  /** Set once the thread is gone: every call after it fails with this. */
  let gone: Error | null = null;

  const failAll = (error: Error) => {
    gone ??= error;
    for (const { reject } of pending.values()) reject(gone);
    pending.clear();
    thread.unref();
  };
  thread.on('message', (message: HostMessage) => {
    if (message.type === 'results') {
      for (const [id, ok, value] of message.results) {
        const waiting = settle(id);
        if (waiting) ok ? waiting.resolve(value) : waiting.reject(decodeThreadError(value as ThreadError));
      }
    } else if (message.type === 'event') {
      listeners.get(message.subscription)?.(message.arg);
    } else {
      logger.child(message.bindings)[message.level](message.obj, message.msg);
    }
  });
  thread.on('error', (error) => {
    logger.error({ err: error }, 'the SQLite thread failed');
    failAll(new ConveyorError(ERROR_CODES.DATABASE_UNAVAILABLE, `the SQLite thread failed: ${error.message}`, { cause: error }));
  });
  thread.on('exit', () => failAll(new ConveyorError(ERROR_CODES.CLOSED, 'the engine is closed')));

  const flush = () => {
    scheduled = false;
    const calls = outbox;
    outbox = [];
    if (calls.length > 0) send({ type: 'calls', calls });
  };
  const send = (message: MainMessage) => {
    try {
      thread.postMessage(message);
    } catch (error) {
      // Parameters that cannot be cloned fail their own calls, never the others of the turn.
      if (message.type !== 'calls') throw error;
      for (const call of message.calls) {
        try {
          thread.postMessage({ type: 'calls', calls: [call] } satisfies MainMessage);
        } catch (callError) {
          settle(call[0])?.reject(new ConveyorError(ERROR_CODES.VALIDATION, `${call[1]}: its parameters cannot cross to the SQLite thread: ${(callError as Error).message}`));
        }
      }
    }
  };
  /** A call answered by the thread; `post` sends it (queued for the turn's message, or at once). */
  const request = (post: (id: number) => void): Promise<unknown> => {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      if (pending.size === 0) thread.ref();
      pending.set(id, { resolve, reject });
      post(id);
    });
  };
  const call = (method: string, p: unknown) =>
    request((id) => {
      outbox.push([id, method, p]);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  const subscribe = async (kind: 'insert' | 'change', onEvent: (arg: unknown) => void) => {
    const subscription = nextId++;
    listeners.set(subscription, onEvent);
    try {
      await request((id) => send({ type: 'listen', id, subscription, kind }));
    } catch (error) {
      listeners.delete(subscription);
      throw error;
    }
    return {
      close: async () => {
        listeners.delete(subscription);
        if (!gone) await request((id) => send({ type: 'unlisten', id, subscription }));
      },
    };
  };

  const driver: Record<string, unknown> = { kind: 'sqlite', capabilities: SQLITE_CAPABILITIES };
  for (const method of ENGINE_METHODS) driver[method] = (p: unknown) => call(method, p);
  driver.taskFail = (p: { random?: () => number }) => {
    // The jitter source is a function: its values are drawn here and handed out in turn there.
    const { random, ...rest } = p;
    return call('taskFail', random === undefined ? rest : { ...rest, randomValues: [random(), random(), random(), random()] });
  };
  // The claimed rows cross as arrays of plain values and are decoded here: cheaper to send than
  // decoded tasks, and the decoding leaves the SQLite thread, which a fast drain keeps busiest.
  driver.taskClaim = async (p: ClaimParams) => decodeClaim((await call('taskClaimRows', p)) as ClaimedRows, p, driver.taskFail as Engine['taskFail']);
  driver.listen = (p: { onInsert: (taskType: string | null) => void }) => subscribe('insert', (arg) => p.onInsert(arg as string | null));
  driver.changeListen = (p: { onChange: () => void }) => subscribe('change', () => p.onChange());
  driver.close = async () => {
    if (gone) return;
    flush();
    // The driver closed there (completions written, file closed): nothing is left to lose.
    await request((id) => send({ type: 'close', id }));
    await thread.terminate();
  };
  return driver as unknown as EngineDriver;
}

/** The host module: TypeScript when Conveyor runs from its sources, JavaScript in the package. */
const HOST_URL = new URL(import.meta.url.endsWith('.ts') ? './sqlite-thread-host.ts' : './sqlite-thread-host.js', import.meta.url).href;

/** tsx's ESM API, registered in the thread when the host is TypeScript (loader hooks of this thread do not reach new ones). */
const TSX_API: string | null = (() => {
  try {
    const esm = join(dirname(createRequire(import.meta.url).resolve('tsx/esm/api')), 'index.mjs');
    return existsSync(esm) ? pathToFileURL(esm).href : null;
  } catch {
    return null;
  }
})();

const BOOTSTRAP = String.raw`
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsxApi) (await import(workerData.tsxApi)).register();
  await import(workerData.hostUrl);
})().catch((error) => { setImmediate(() => { throw error; }); });
`;
