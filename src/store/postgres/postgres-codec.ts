import type { RowCodec } from '../shared/row-codec.ts';

/** pg's column kinds with PG_TYPES: timestamptz already a Date, jsonb (and text[]) already parsed, booleans as booleans. */
export const postgresCodec: RowCodec<Date, unknown, boolean> = {
  time: (date) => date,
  json: <V>(value: unknown) => value as V,
  bool: (value) => value,
};
