/** Deeper than any real task (a payload 60 objects deep is a mistake or an attack), shallow enough for every recursive walk after parsing. */
export const MAX_JSON_DEPTH = 64;

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * How deep `text` nests objects and arrays, stopping as soon as it passes `limit`: one pass over the
 * characters, skipping strings (and their escapes). It does not validate the JSON (JSON.parse does,
 * afterwards); it makes sure that nothing recursive (the parser, prototype-poisoning scans, schema
 * validation, JSON.stringify, the database's jsonb) meets input deep enough to overflow its stack.
 */
export function jsonDepthExceeds(text: string, limit: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}
