import { clearSession, readSession } from './session.js';

/** Every call goes to the versioned prefix; the same routes answer at the guide's paths too. */
export const API_BASE = '/api/v1';

/** An API answer other than success: the envelope's code, message and field, and the HTTP status. */
export class ApiFailure extends Error {
  constructor(status, code, message, field, details) {
    super(message);
    this.name = 'ApiFailure';
    this.status = status;
    this.code = code;
    this.field = field;
    this.details = details;
  }
}

const unauthorizedListeners = new Set();

/** Called when the API says the session is no longer valid (logged out elsewhere, expired). */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function sessionEnded(message = 'Your session ended; please log in again.') {
  clearSession();
  for (const listener of unauthorizedListeners) listener(message);
}

/**
 * Calls the API with the session's bearer token and returns the success envelope (`data`, and
 * `pagination` on lists). Throws ApiFailure otherwise.
 * @param {string} method
 * @param {string} path  relative to /api/v1, e.g. `/tasks?limit=50`
 * @param {{ body?: unknown, headers?: Record<string, string>, signal?: AbortSignal }} [options]
 */
export async function api(method, path, options = {}) {
  const session = readSession();
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', ...options.headers };
  if (session) headers.authorization = `Bearer ${session.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(API_BASE + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiFailure(0, 'NETWORK', 'The server could not be reached. Check your connection and try again.');
  }
  let json = null;
  try {
    json = await response.json();
  } catch {
    // not JSON (a proxy's error page): described below
  }
  if (response.ok && json?.success === true) return json;
  const error = json?.error ?? {};
  if (response.status === 401 && session && !path.startsWith('/auth/login')) sessionEnded();
  throw new ApiFailure(response.status, error.code ?? `HTTP_${response.status}`, error.message ?? `The request failed (HTTP ${response.status})`, error.field, error.details);
}

/** `?a=1&b=2` from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Runs `action` on every item with a few requests in flight (no bulk endpoint exists for these), and
 * reports progress. Resolves with the items that failed and why.
 * @param {{ concurrency?: number, onProgress?: (done: number, total: number) => void }} [options]
 */
export async function forEachLimited(items, action, options = {}) {
  const { concurrency = 4, onProgress } = options;
  const failures = [];
  let next = 0;
  let done = 0;
  const run = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await action(item);
      } catch (error) {
        failures.push({ item, error });
      }
      done += 1;
      onProgress?.(done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, run));
  return failures;
}
