/**
 * A PostgreSQL array literal (`{a,b,c}`) of values that never need quoting: UUIDs and integers. One
 * join, where pg would quote and escape each element on its own; the completion of every task sends
 * three such arrays, so this is on the hot path. Callers pass only such values (the dispatch layer
 * has checked that lease ids are UUIDs).
 */
export function plainArrayLiteral(values: readonly (string | number)[]): string {
  return `{${values.join(',')}}`;
}
