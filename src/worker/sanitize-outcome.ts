import type { JsonValue } from '../core/task.ts';

/** The longest error text written to last_error; a handler's stack-sized message is cut there. */
export const MAX_ERROR_BYTES = 8 * 1024;

/**
 * NUL (PostgreSQL's text and jsonb refuse it) and UTF-16 surrogates without their partner (no valid
 * UTF-8 exists for them): a string with either cannot be stored on every engine, and an outcome that
 * cannot be written would leave its task `running`.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` without the characters no engine can store (NUL becomes nothing, a lone surrogate U+FFFD). */
export function sanitizeText(text: string): string {
  if (!UNSTORABLE.test(text)) return text;
  UNSTORABLE.lastIndex = 0;
  return text.replace(UNSTORABLE, (found) => (found === '\u0000' ? '' : '\uFFFD'));
}

/** An error text fit for last_error: storable, and at most MAX_ERROR_BYTES of UTF-8. */
export function sanitizeErrorText(text: string): string {
  const clean = sanitizeText(text);
  if (Buffer.byteLength(clean) <= MAX_ERROR_BYTES) return clean;
  // Cut by characters, then trim until the bytes fit (multi-byte text is rarely far over).
  let cut = clean.slice(0, MAX_ERROR_BYTES - 1);
  while (Buffer.byteLength(cut) > MAX_ERROR_BYTES - 3) cut = cut.slice(0, Math.floor(cut.length * 0.9));
  // Never end on half a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** A handler's output with every string (values and keys) made storable; the same object when nothing needed it. */
export function sanitizeOutput(value: JsonValue | null): JsonValue | null {
  if (typeof value === 'string') return sanitizeText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let changed = false;
    const items = value.map((item) => {
      const clean = sanitizeOutput(item);
      if (clean !== item) changed = true;
      return clean as JsonValue;
    });
    return changed ? items : value;
  }
  let changed = false;
  const entries: [string, JsonValue][] = [];
  for (const [key, item] of Object.entries(value)) {
    const cleanKey = sanitizeText(key);
    const clean = sanitizeOutput(item as JsonValue) as JsonValue;
    if (cleanKey !== key || clean !== item) changed = true;
    entries.push([cleanKey, clean]);
  }
  return changed ? (Object.fromEntries(entries) as JsonValue) : value;
}
