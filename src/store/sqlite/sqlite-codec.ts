import { RowDecodeError, type RowCodec } from '../shared/row-codec.ts';

/** better-sqlite3's column kinds: INTEGER epoch milliseconds, JSON as TEXT, booleans as 0/1. */
export const sqliteCodec: RowCodec<number, string, number> = {
  time: (ms) => new Date(ms),
  json<V>(text: string, column: string): V {
    // The common empty values skip the parser: metadata and attempts are mostly these.
    if (text === '{}') return {} as V;
    if (text === '[]') return [] as V;
    try {
      return JSON.parse(text) as V;
    } catch (error) {
      throw new RowDecodeError(column, 'cannot be decoded', error instanceof Error ? error.message : String(error));
    }
  },
  bool: (value) => value !== 0,
};
