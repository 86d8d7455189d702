import { pino } from 'pino';

/**
 * How an error appears in a log line (pino's `err` serializer). pino's own copies every enumerable
 * property, and pg's pool puts the whole client on the errors of idle connections (`err.client`): a
 * lost connection wrote 5-7 KB per line, the backend's cancel key among it. This keeps the message,
 * stack and code, and of the other properties only plain values (the fields a PostgreSQL error
 * carries: severity, detail, hint, where, table, constraint, ...; our own field and details): never
 * a client, socket or other live object.
 */
export function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown;
  if (serialized === null || typeof serialized !== 'object' || serialized === error) return serialized;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(serialized)) {
    if (key === 'client' || key === 'raw') continue;
    if (isPlain(value)) out[key] = value;
  }
  return out;
}

/** A primitive, or an array or object literal of them (JSON-like, bounded by what it holds). */
function isPlain(value: unknown, depth = 0): boolean {
  if (value === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof value)) return true;
  if (depth > 4 || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.every((item) => isPlain(item, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value as Record<string, unknown>).every((item) => isPlain(item, depth + 1));
}
