import { validationError } from '../core/errors.ts';

/** Reads a comma-separated query value (`status=pending,retrying`), checking each item against `allowed`. */
export function csvFilter<T extends string>(value: string | undefined, field: string, allowed?: readonly T[]): T[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const items = [...new Set(value.split(',').map((v) => v.trim()).filter((v) => v !== ''))];
  if (items.length > 50) throw validationError(field, 'lists at most 50 values');
  if (allowed) {
    const bad = items.find((item) => !allowed.includes(item as T));
    if (bad !== undefined) throw validationError(field, `"${bad}" is not one of ${allowed.join(', ')}`, { allowed: [...allowed] });
  }
  return items as T[];
}

export function dateFilter(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw validationError(field, 'must be an RFC 3339 date-time');
  return date;
}
