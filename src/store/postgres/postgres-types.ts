import pg from 'pg';
import type { CustomTypesConfig } from 'pg';

/**
 * How result values are parsed. Passed on every query (and to the pool) instead of changing pg's
 * global parsers, because `tx` inserts run on the application's own client and the application may
 * have set global parsers of its own (timestamps as strings is common). Only the types Conveyor's
 * tables use are pinned down here; everything else keeps pg's parser.
 */
const OID = { bool: 16, int8: 20, int2: 21, int4: 23, json: 114, timestamptz: 1184, jsonb: 3802 } as const;

const parseNumber = (value: string): number => Number(value);
const parseBool = (value: string): boolean => value === 't';
const parseJson = (value: string): unknown => JSON.parse(value);

/**
 * PostgreSQL prints timestamptz as `2026-01-01 12:00:00.123456+00` (the offset follows the session's
 * TimeZone, which may be `+05:30`). Read field by field: a claim of hundreds of tasks parses thousands
 * of these, and building an ISO string for `new Date()` to parse again cost more than the rest of the
 * row. Anything not in that shape (years beyond 9999, BC dates, infinity: never written by Conveyor,
 * which only stores JS Dates) goes the slow way.
 */
export function parseTimestamptz(value: string): Date {
  const n = value.length;
  if (n >= 22 && value.charCodeAt(4) === 45 && value.charCodeAt(10) === 32 && value.charCodeAt(19) !== 58) {
    let i = 19;
    let ms = 0;
    if (value.charCodeAt(i) === 46) {
      // Fraction: milliseconds from the first three digits (JS Dates hold no more), the rest skipped.
      let scale = 100;
      for (i += 1; i < n; i += 1) {
        const digit = value.charCodeAt(i) - 48;
        if (digit < 0 || digit > 9) break;
        ms += digit * scale;
        scale /= 10;
      }
      ms = Math.floor(ms);
    }
    const sign = value.charCodeAt(i);
    if ((sign === 43 || sign === 45) && (n === i + 3 || n === i + 6 || n === i + 9)) {
      let offsetMinutes = digits(value, i + 1, 2) * 60 + (n >= i + 6 ? digits(value, i + 4, 2) : 0);
      if (sign === 45) offsetMinutes = -offsetMinutes;
      const seconds = n === i + 9 ? digits(value, i + 7, 2) : 0;
      const year = digits(value, 0, 4);
      // Date.UTC reads years 0-99 as 1900-1999.
      const utc = year < 100 ? Number.NaN : Date.UTC(year, digits(value, 5, 2) - 1, digits(value, 8, 2), digits(value, 11, 2), digits(value, 14, 2), digits(value, 17, 2), ms);
      const time = utc - offsetMinutes * 60_000 - (sign === 45 ? -seconds : seconds) * 1000;
      if (!Number.isNaN(time)) return new Date(time);
    }
  }
  let iso = value.replace(' ', 'T');
  if (/[+-]\d\d$/.test(iso)) iso += ':00';
  return new Date(iso);
}

/** The decimal number in `count` characters of `text` from `start` (NaN if any is not a digit). */
function digits(text: string, start: number, count: number): number {
  let result = 0;
  for (let i = start; i < start + count; i += 1) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    result = result * 10 + digit;
  }
  return result;
}

export const PG_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === undefined || format === 'text') {
      switch (oid) {
        case OID.int8:
        case OID.int2:
        case OID.int4:
          return parseNumber;
        case OID.bool:
          return parseBool;
        case OID.json:
        case OID.jsonb:
          return parseJson;
        case OID.timestamptz:
          return parseTimestamptz;
      }
    }
    return pg.types.getTypeParser(oid, format as 'text');
  }) as CustomTypesConfig['getTypeParser'],
};
