import { TASK_TYPE_PATTERN } from '../core/new-task.ts';

/**
 * The value parsers the configuration schema (config.ts) is built from: each says what it allows, as
 * an error message puts it, and turns a raw string (environment or file) into a value, or undefined
 * when the string is not allowed.
 */
export interface Parser<T> {
  allowed: string;
  parse(raw: string): T | undefined;
}

export function integer(min: number, max: number, unit = ''): Parser<number> {
  return {
    allowed: `a whole number from ${min} to ${max}${unit}`,
    parse: (raw) => {
      if (!/^-?\d+$/.test(raw.trim())) return undefined;
      const value = Number(raw.trim());
      return value >= min && value <= max ? value : undefined;
    },
  };
}

/** Three significant digits: 1/60 of an hour reads 0.0167, not 0.016666666666666666. */
const round = (value: number) => Number(value.toPrecision(3));

/** A number in a larger unit (seconds, days) converted to milliseconds. */
export function scaled(unitName: string, factor: number, min: number, max: number): Parser<number> {
  return {
    allowed: `a number of ${unitName} from ${round(min / factor)} to ${round(max / factor)}`,
    parse: (raw) => {
      if (!/^\d+(\.\d+)?$/.test(raw.trim())) return undefined;
      const value = Math.round(Number(raw.trim()) * factor);
      return value >= min && value <= max ? value : undefined;
    },
  };
}

/** A decimal number from min to max (a share: 0.5). */
export function decimal(min: number, max: number): Parser<number> {
  return {
    allowed: `a number from ${min} to ${max}`,
    parse: (raw) => {
      if (!/^\d+(\.\d+)?$/.test(raw.trim())) return undefined;
      const value = Number(raw.trim());
      return value >= min && value <= max ? value : undefined;
    },
  };
}

export function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return {
    allowed: `one of ${values.join(', ')}`,
    parse: (raw) => (values as readonly string[]).includes(raw.trim().toLowerCase()) ? (raw.trim().toLowerCase() as T) : undefined,
  };
}

export function text(allowed: string, valid: (value: string) => boolean): Parser<string> {
  return { allowed, parse: (raw) => (valid(raw.trim()) ? raw.trim() : undefined) };
}

export function bool(): Parser<boolean> {
  return {
    allowed: 'true or false',
    parse: (raw) => {
      const value = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(value)) return true;
      if (['false', '0', 'no', 'off'].includes(value)) return false;
      return undefined;
    },
  };
}

/** Kept exactly as given (a password may begin or end with a space). */
export const secret: Parser<string> = { allowed: 'a non-empty string', parse: (raw) => raw };

export const originList: Parser<readonly string[]> = {
  allowed: 'a comma-separated list of origins such as https://dash.example.com, or *',
  parse: (raw) => {
    const origins = raw.split(',').map((origin) => origin.trim()).filter((origin) => origin !== '');
    return origins.every((origin) => origin === '*' || /^https?:\/\/[A-Za-z0-9.-]+(:\d+)?$/.test(origin)) ? Object.freeze(origins) : undefined;
  },
};

export const taskTypeList: Parser<readonly string[]> = {
  allowed: 'a comma-separated list of task type names (empty for every registered type)',
  parse: (raw) => {
    const names = raw.split(',').map((name) => name.trim()).filter((name) => name !== '');
    return names.every((name) => TASK_TYPE_PATTERN.test(name)) ? Object.freeze([...new Set(names)]) : undefined;
  },
};

/** A comma-separated list of items each passing `valid`; empty gives an empty list. */
export function list(allowed: string, valid: (item: string) => boolean): Parser<readonly string[]> {
  return {
    allowed,
    parse: (raw) => {
      const items = raw.split(',').map((item) => item.trim()).filter((item) => item !== '');
      return items.every(valid) ? Object.freeze(items) : undefined;
    },
  };
}

export const anyText = (allowed: string) => text(allowed, () => true);
