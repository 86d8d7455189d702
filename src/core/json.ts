import { validationError } from './errors.ts';
import type { JsonObject, JsonValue } from './task.ts';

const MAX_DEPTH = 64;

/**
 * Checks that a value survives JSON unchanged: plain objects, arrays, finite numbers, strings,
 * booleans and null. Anything else (undefined, functions, BigInt, NaN, Dates, class instances,
 * cycles, `__proto__` keys) would be silently altered by JSON.stringify, so it is refused and the
 * error names the path of the offending part.
 */
export function assertJson(value: unknown, field: string): asserts value is JsonValue {
  check(value, field, 0, new Set());
}

export function assertJsonObject(value: unknown, field: string): asserts value is JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw validationError(field, 'must be a JSON object');
  }
  check(value, field, 0, new Set());
}

function check(value: unknown, path: string, depth: number, seen: Set<object>): void {
  if (depth > MAX_DEPTH) throw validationError(path, `is nested deeper than ${MAX_DEPTH} levels`);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw validationError(path, 'must be a finite number (JSON has no NaN or Infinity)');
      return;
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) throw validationError(path, 'contains a cycle, which JSON cannot represent');
      seen.add(value);
      if (Array.isArray(value)) {
        value.forEach((item, index) => check(item, `${path}[${index}]`, depth + 1, seen));
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          throw validationError(path, `must be plain JSON, not a ${proto?.constructor?.name ?? 'class'} instance`);
        }
        for (const [key, item] of Object.entries(value)) {
          if (key === '__proto__') throw validationError(`${path}.${key}`, 'is not an allowed key');
          check(item, `${path}.${key}`, depth + 1, seen);
        }
      }
      seen.delete(value);
      return;
    }
    default:
      throw validationError(path, `must be JSON, not ${typeof value}`);
  }
}

/**
 * A deep copy of a value that is plain JSON (what assertJson accepts, with -0 read as 0 as JSON
 * does), or undefined when it is anything else: the caller then parses the value's JSON text. For
 * small payloads this is several times cheaper than JSON.parse of the text, and it gives the same
 * value, sharing no object with the original.
 */
export function copyPlainJson(value: unknown): JsonValue | undefined {
  const copy = copyValue(value, 0);
  return copy === NOT_PLAIN ? undefined : (copy as JsonValue);
}

const NOT_PLAIN = Symbol('not plain JSON');

function copyValue(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value + 0 : NOT_PLAIN;
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_DEPTH) return NOT_PLAIN;
      if (Array.isArray(value)) {
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = copyValue(value[i], depth + 1);
          if (item === NOT_PLAIN) return NOT_PLAIN;
          out[i] = item;
        }
        return out;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        if (key === '__proto__') return NOT_PLAIN;
        const item = copyValue((value as Record<string, unknown>)[key], depth + 1);
        if (item === NOT_PLAIN) return NOT_PLAIN;
        out[key] = item;
      }
      return out;
    }
    default:
      return NOT_PLAIN;
  }
}
