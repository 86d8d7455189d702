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
 * TimeZone, which may be `+05:30`); made ISO 8601 for Date. Conveyor only writes JS Dates, so years
 * beyond 9999, BC dates and infinity never occur.
 */
export function parseTimestamptz(value: string): Date {
  let iso = value.replace(' ', 'T');
  if (/[+-]\d\d$/.test(iso)) iso += ':00';
  return new Date(iso);
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
