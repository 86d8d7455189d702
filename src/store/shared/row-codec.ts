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

  /** What the parser said; kept off the message, which becomes the task's error. */
  readonly detail: string;

  constructor(column: string, problem: 'cannot be decoded' | 'is not an object', detail = '') {
    super(`${column}: stored JSON ${problem}`);
    this.name = 'RowDecodeError';
    this.column = column;
    this.detail = detail;
  }
}

/** `null` stays `null`; anything else goes through `read`. */
export function orNull<S, D>(value: S | null, read: (value: S) => D): D | null {
  return value === null ? null : read(value);
}
