import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config.ts';
import { ERROR_CODES } from '../../src/core/errors.ts';

function configError(env: Record<string, string>): { code: string; field?: string; message: string } {
  try {
    loadConfig(env);
  } catch (error) {
    return error as { code: string; field?: string; message: string };
  }
  throw new Error('expected a configuration error');
}

describe('loadConfig', () => {
  it('has the documented defaults, frozen', () => {
    const config = loadConfig({});
    // Other sections (auth, ...) belong to other tests.
    expect(config).toMatchObject({
      database: { url: 'sqlite:./data/conveyor.db' },
      worker: {
        concurrency: 4,
        poll_interval_ms: 30_000,
        lease_ms: 30_000,
        heartbeat_ms: 750,
        shutdown_grace_ms: 10_000,
        task_types: [],
        max_rescues: 3,
        maintenance_interval_ms: 15_000,
        retention_ms: 7 * 24 * 3600 * 1000,
      },
      breaker: { failure_threshold: 5, success_threshold: 3, open_ms: 60_000 },
      log: { level: 'info' },
      server: { host: '127.0.0.1', port: 3000 },
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.worker)).toBe(true);
    expect(Object.isFrozen(config.worker.task_types)).toBe(true);
  });

  it('reads CONVEYOR__SECTION__KEY and the guide\'s STARTER__ names; CONVEYOR wins', () => {
    const config = loadConfig({
      CONVEYOR__WORKER__CONCURRENCY: '8',
      STARTER__WORKER__CONCURRENCY: '2',
      STARTER__SERVER__PORT: '8080',
      CONVEYOR__WORKER__TASK_TYPES: ' email, webhook ,,email',
      CONVEYOR__LOG__LEVEL: 'DEBUG',
    });
    expect(config.worker.concurrency).toBe(8);
    expect(config.server.port).toBe(8080);
    expect(config.worker.task_types).toEqual(['email', 'webhook']);
    expect(config.log.level).toBe('debug');
  });

  it('accepts the guide\'s POLL_INTERVAL_SECS in seconds, DATABASE_URL, and RETENTION_DAYS', () => {
    const config = loadConfig({ STARTER__WORKER__POLL_INTERVAL_SECS: '5', DATABASE_URL: 'postgres://u@db/app', CONVEYOR__WORKER__RETENTION_DAYS: '1.5' });
    expect(config.worker.poll_interval_ms).toBe(5000);
    expect(config.database.url).toBe('postgres://u@db/app');
    expect(config.worker.retention_ms).toBe(36 * 3600 * 1000);
    // The precise name beats the alias.
    expect(loadConfig({ CONVEYOR__WORKER__POLL_INTERVAL_MS: '250', STARTER__WORKER__POLL_INTERVAL_SECS: '5' }).worker.poll_interval_ms).toBe(250);
    expect(loadConfig({ CONVEYOR__DATABASE__URL: 'sqlite:/tmp/a.db', DATABASE_URL: 'postgres://u@db/app' }).database.url).toBe('sqlite:/tmp/a.db');
  });

  it('derives the heartbeat and maintenance interval from a shorter lease', () => {
    const config = loadConfig({ CONVEYOR__WORKER__LEASE_MS: '1500' });
    expect(config.worker.heartbeat_ms).toBe(500);
    expect(config.worker.maintenance_interval_ms).toBe(750);
  });

  it('names the setting, the variable and what is allowed when a value is invalid', () => {
    const error = configError({ CONVEYOR__WORKER__CONCURRENCY: 'lots' });
    expect(error.code).toBe(ERROR_CODES.CONFIG);
    expect(error.field).toBe('worker.concurrency');
    expect(error.message).toBe('CONVEYOR__WORKER__CONCURRENCY (worker.concurrency) must be a whole number from 1 to 1000; got "lots"');

    expect(configError({ STARTER__WORKER__POLL_INTERVAL_SECS: 'soon' }).message).toMatch(/STARTER__WORKER__POLL_INTERVAL_SECS \(worker.poll_interval_ms\) must be a number of seconds/);
    expect(configError({ CONVEYOR__LOG__LEVEL: 'loud' }).message).toMatch(/must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(configError({ CONVEYOR__WORKER__TASK_TYPES: 'ok, not ok' }).field).toBe('worker.task_types');
    expect(configError({ CONVEYOR__DATABASE__URL: 'mysql://x' }).field).toBe('database.url');
    expect(configError({ CONVEYOR__WORKER__LEASE_MS: '2000', CONVEYOR__WORKER__HEARTBEAT_MS: '1500' })).toMatchObject({ field: 'worker.heartbeat_ms' });
  });

  it('refuses misspelt CONVEYOR__ names but ignores STARTER__ names it does not use', () => {
    expect(configError({ CONVEYOR__WORKER__CONCURENCY: '3' }).message).toMatch(/CONVEYOR__WORKER__CONCURENCY is not a setting; worker settings are concurrency/);
    expect(configError({ CONVEYOR__WROKER__CONCURRENCY: '3' }).message).toMatch(/names no section/);
    expect(() => loadConfig({ STARTER__WORKER__MAX_RETRIES: '3', STARTER__DATABASE__USER: 'starter_user', CONVEYOR_TEST_X: '1' })).not.toThrow();
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ CONVEYOR__WORKER__CONCURRENCY: '', CONVEYOR__WORKER__TASK_TYPES: '' }).worker).toMatchObject({ concurrency: 4, task_types: [] });
  });
});
