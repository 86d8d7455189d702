/**
 * How one engine stores the column kinds the record mappers read. The mappers (record-mappers.ts,
 * task-mappers.ts) name every field once; an engine only says how its driver hands back a timestamp,
 * a JSON column and a boolean. `T`, `J`, `B` are the driver's types for those columns.
 */
export interface RowCodec<T, J, B> {
  time(value: T): Date;
  /** A JSON column; throws RowDecodeError naming `column` when the stored value cannot be decoded. */
  json<V>(value: J, column: string): V;
  bool(value: B): boolean;
}

/** A stored column the engine cannot turn back into a value (e.g. malformed JSON written by hand). */
export class RowDecodeError extends Error {
  readonly column: string;

  constructor(column: string, detail: string) {
    super(`${column}: stored JSON cannot be decoded (${detail})`);
    this.name = 'RowDecodeError';
    this.column = column;
  }
}

/** `null` stays `null`; anything else goes through `read`. */
export function orNull<S, D>(value: S | null, read: (value: S) => D): D | null {
  return value === null ? null : read(value);
}
