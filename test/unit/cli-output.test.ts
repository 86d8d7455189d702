import { describe, expect, it } from 'vitest';
import { CliError, EXIT, toCliError } from '../../src/cli/cli-error.ts';
import { formatAgo, formatDuration, formatTable, parseDuration, parseIntFlag, parseListFlag } from '../../src/cli/output.ts';
import { ConveyorError, ERROR_CODES, validationError } from '../../src/core/errors.ts';

describe('CLI output helpers', () => {
  it('tables pad columns, right-align numbers, cut long cells and show missing values as -', () => {
    const text = formatTable(
      [{ header: 'NAME' }, { header: 'COUNT', right: true }, { header: 'NOTE', max: 8 }],
      [
        ['email', 12, null],
        ['report_generation', 3, 'a rather long note'],
      ],
    );
    expect(text.split('\n')).toEqual(['NAME               COUNT  NOTE', 'email                 12  -', 'report_generation      3  a rathe…']);
  });

  it('durations read short', () => {
    expect(formatDuration(950)).toBe('950ms');
    expect(formatDuration(42_000)).toBe('42s');
    expect(formatDuration(302_000)).toBe('5m 02s');
    expect(formatDuration(3 * 3_600_000 + 7 * 60_000)).toBe('3h 07m');
    expect(formatDuration(52 * 3_600_000)).toBe('2d 04h');
    const now = new Date(Date.UTC(2026, 0, 1));
    expect(formatAgo(new Date(now.getTime() - 5000), now)).toBe('5s ago');
    expect(formatAgo(new Date(now.getTime() + 30_000), now)).toBe('in 30s');
    expect(formatAgo(null, now)).toBe('-');
  });

  it('parses durations and flags, with usage errors naming the flag', () => {
    expect(() => parseDuration('7', '--older-than')).toThrow('--older-than needs a unit: 7d, 7h, 7m or 7s (a bare number is ambiguous); got "7"');
    expect(parseDuration('90', '--watch', { bareUnitMs: 1000 })).toBe(90_000);
    expect(parseDuration('90s', '--x')).toBe(90_000);
    expect(parseDuration('500ms', '--x')).toBe(500);
    expect(parseDuration('15m', '--x')).toBe(900_000);
    expect(parseDuration('1h30m', '--x')).toBe(5_400_000);
    expect(parseDuration('7d', '--x')).toBe(604_800_000);
    for (const bad of ['', 'soon', '5 minutes', '1h30', '-5s']) {
      expect(() => parseDuration(bad, '--older-than')).toThrow(/^--older-than must be a duration/);
    }
    expect(parseIntFlag('20', '--limit', 1, 1000)).toBe(20);
    expect(() => parseIntFlag('0', '--limit', 1, 1000)).toThrow('--limit must be a whole number from 1 to 1000; got "0"');
    expect(parseListFlag('pending, failed', '--status', ['pending', 'failed', 'running'])).toEqual(['pending', 'failed']);
    expect(() => parseListFlag('pending,done', '--status', ['pending', 'failed'])).toThrow('--status: done is not one of pending, failed');
    expect(parseListFlag(undefined, '--type')).toBeUndefined();
  });

  it('maps engine errors to exit codes', () => {
    const code = (error: unknown) => (toCliError(error) as CliError).exitCode;
    expect(code(validationError('payload.to', 'must be an email'))).toBe(EXIT.USAGE);
    expect(code(new ConveyorError(ERROR_CODES.CONFIG, 'bad'))).toBe(EXIT.CONFIG);
    expect(code(new ConveyorError(ERROR_CODES.NOT_FOUND, 'gone'))).toBe(EXIT.NOT_FOUND);
    expect(code(new ConveyorError(ERROR_CODES.INVALID_STATE, 'running'))).toBe(EXIT.INVALID_STATE);
    expect(code(new ConveyorError(ERROR_CODES.DATABASE_UNAVAILABLE, 'refused'))).toBe(EXIT.UNAVAILABLE);
    const missing = toCliError(new ConveyorError(ERROR_CODES.DATABASE, 'SQLite taskList failed: no such table: tasks')) as CliError;
    expect(missing.exitCode).toBe(EXIT.FAILURE);
    expect(missing.message).toContain('run `conveyor migrate`');
    const plain = new Error('a bug');
    expect(toCliError(plain)).toBe(plain);
  });
});
