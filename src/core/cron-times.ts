import { Cron } from 'croner';
import { validationError } from './errors.ts';

/** Longer than any sensible expression: a limit on what is stored and parsed. */
const MAX_CRON_LENGTH = 200;

/**
 * A cron expression in a time zone, and when it fires. Parsing and the calendar (time zones, daylight
 * saving, the last day of a month) are croner's; this keeps its errors in our catalogue. Five fields
 * (minute hour day-of-month month day-of-week), six with seconds first, or @hourly, @daily, @weekly,
 * @monthly, @yearly.
 */
export class CronTimes {
  readonly expression: string;
  readonly timezone: string;
  readonly #cron: Cron;

  private constructor(expression: string, timezone: string, cron: Cron) {
    this.expression = expression;
    this.timezone = timezone;
    this.#cron = cron;
  }

  /** Refuses, naming `fields.cron` or `fields.timezone`, an expression that is malformed or never fires. */
  static parse(expression: unknown, timezone: unknown, fields: { cron: string; timezone: string } = { cron: 'cron', timezone: 'timezone' }): CronTimes {
    if (typeof timezone !== 'string' || !isTimeZone(timezone)) {
      throw validationError(fields.timezone, 'must be an IANA time zone such as UTC, Europe/Berlin or America/New_York');
    }
    if (typeof expression !== 'string' || expression.trim() === '' || expression.length > MAX_CRON_LENGTH) {
      throw validationError(fields.cron, `must be a cron expression of at most ${MAX_CRON_LENGTH} characters, such as "0 3 * * *" (03:00 every day)`);
    }
    const normalised = expression.trim().replace(/\s+/g, ' ');
    let cron: Cron;
    try {
      cron = new Cron(normalised, { timezone, paused: true });
    } catch (error) {
      const reason = error instanceof Error ? error.message.replace(/^CronPattern: /, '').replace(/\.$/, '') : String(error);
      throw validationError(fields.cron, `is not a cron expression we can read: ${reason}. Use five fields (minute hour day month weekday), six with seconds first, or @hourly, @daily, @weekly, @monthly`);
    }
    const times = new CronTimes(normalised, timezone, cron);
    if (times.next(new Date()) === null) throw validationError(fields.cron, 'never fires (no such date, e.g. 30 February)');
    return times;
  }

  /** The first time strictly after `after`; null if there is none. */
  next(after: Date): Date | null {
    return this.#cron.nextRun(after);
  }

  /** The next `count` times strictly after `after`. */
  upcoming(count: number, after: Date): Date[] {
    return this.#cron.nextRuns(count, after);
  }
}

function isTimeZone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
