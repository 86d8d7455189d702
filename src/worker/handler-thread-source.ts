/**
 * What runs inside a handler's worker thread (isolation: 'thread'), as source text run with
 * `eval: true`: a file would need a different name once the TypeScript is compiled, a string does
 * not. It loads the task's module by URL (through tsx when that module is TypeScript), finds the
 * definition by name, runs its handler with a TaskContext whose signal, logger and progress cross to
 * the worker as messages, and posts the result or the error. The worker terminates the thread after.
 */
export const HANDLER_THREAD_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const { moduleUrl, taskType, payload, info, tsxApi } = workerData;
const controller = new AbortController();
const acks = new Map();
let nextAck = 0;
parentPort.on('message', (message) => {
  if (message.type === 'abort') {
    const reason = new Error(message.message);
    reason.name = 'TaskAbortedError';
    reason.kind = message.kind;
    controller.abort(reason);
  } else if (message.type === 'progress-done') {
    const ack = acks.get(message.id);
    acks.delete(message.id);
    if (ack) message.error ? ack.reject(new Error(message.error)) : ack.resolve();
  }
});
function plain(value) {
  try { return JSON.parse(JSON.stringify(value ?? {})); } catch { return {}; }
}
function makeLogger(bindings) {
  const log = (level) => (fields, msg) => {
    if (typeof fields === 'string') { msg = fields; fields = {}; }
    parentPort.postMessage({ type: 'log', level, fields: plain({ ...bindings, ...fields }), msg: msg === undefined ? '' : String(msg) });
  };
  return { trace: log('debug'), debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), fatal: log('error'), child: (more) => makeLogger({ ...bindings, ...more }) };
}
function describe(error) {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack, retryAfterMs: error.retryAfterMs, delayMs: error.delayMs };
  }
  let message;
  try { message = typeof error === 'string' ? error : JSON.stringify(error) ?? String(error); } catch { message = String(error); }
  return { name: 'Error', message, notAnError: true };
}
function findDefinition(exports) {
  const seen = new Set();
  const visit = (value, depth) => {
    if (!value || typeof value !== 'object' || seen.has(value) || depth > 2) return undefined;
    seen.add(value);
    if (value.name === taskType && typeof value.handler === 'function') return value;
    for (const item of Array.isArray(value) ? value : Object.values(value)) {
      const found = visit(item, depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return visit(exports, 0);
}
(async () => {
  if (tsxApi && /\.(c|m)?tsx?$/.test(new URL(moduleUrl).pathname)) (await import(tsxApi)).register();
  const exports = await import(moduleUrl);
  const definition = findDefinition(exports);
  if (!definition) throw new Error('the module ' + moduleUrl + ' exports no task definition named "' + taskType + '"');
  const context = {
    ...info,
    createdAt: new Date(info.createdAt),
    signal: controller.signal,
    logger: makeLogger({}),
    progress: (report) => new Promise((resolve, reject) => {
      const id = nextAck++;
      acks.set(id, { resolve, reject });
      parentPort.postMessage({ type: 'progress', id, report });
    }),
  };
  const value = await definition.handler(payload, context);
  try {
    parentPort.postMessage({ type: 'result', value: value === undefined ? null : value });
  } catch (error) {
    parentPort.postMessage({ type: 'error', error: { name: 'Error', message: 'the handler returned output that cannot leave its thread (not JSON): ' + error.message } });
  }
})().catch((error) => parentPort.postMessage({ type: 'error', error: describe(error) }));
`;
