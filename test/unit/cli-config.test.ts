import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configurationMarkdown } from '../../src/cli/commands/config.ts';
import { describeSettings, loadConfig, resolveConfig } from '../../src/cli/config.ts';
import { ConveyorError, ERROR_CODES } from '../../src/core/errors.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'conveyor-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(content: unknown, name = 'conveyor.config.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function configError(fn: () => unknown): ConveyorError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConveyorError);
    expect((error as ConveyorError).code).toBe(ERROR_CODES.CONFIG);
    return error as ConveyorError;
  }
  throw new Error('expected a configuration error');
}

describe('config file', () => {
  it('reads ./conveyor.config.json below the environment and above the defaults, and says where each value came from', () => {
    const file = writeConfig({
      $schema: 'ignored',
      worker: { concurrency: 9, poll_interval_secs: 2, task_types: ['email', 'webhook'] },
      server: { port: 4000, docs: false },
      database: { url: 'sqlite:./from-file.db' },
    });
    const { config, sources, file: used } = resolveConfig({ CONVEYOR__SERVER__PORT: '5000' }, { cwd: dir });
    expect(used).toBe(file);
    expect(config.worker.concurrency).toBe(9);
    expect(config.worker.poll_interval_ms).toBe(2000);
    expect(config.worker.task_types).toEqual(['email', 'webhook']);
    expect(config.server.docs).toBe(false);
    expect(config.server.port).toBe(5000);
    expect(config.worker.lease_ms).toBe(30_000);
    expect(sources['worker.concurrency']).toEqual({ kind: 'file', path: file, key: 'worker.concurrency' });
    expect(sources['worker.poll_interval_ms']).toEqual({ kind: 'file', path: file, key: 'worker.poll_interval_secs' });
    expect(sources['server.port']).toEqual({ kind: 'env', name: 'CONVEYOR__SERVER__PORT' });
    expect(sources['worker.lease_ms']).toEqual({ kind: 'default' });
  });

  it('the guide\'s STARTER__ names and DATABASE_URL also win over the file', () => {
    writeConfig({ worker: { concurrency: 9 }, database: { url: 'sqlite:./from-file.db' } });
    const { config } = resolveConfig({ STARTER__WORKER__CONCURRENCY: '2', DATABASE_URL: 'sqlite:./from-env.db' }, { cwd: dir });
    expect(config.worker.concurrency).toBe(2);
    expect(config.database.url).toBe('sqlite:./from-env.db');
  });

  it('CONVEYOR_CONFIG names another file (relative to the working directory); a missing one is an error', () => {
    writeConfig({ worker: { concurrency: 3 } }, 'other.json');
    writeConfig({ worker: { concurrency: 9 } });
    expect(resolveConfig({ CONVEYOR_CONFIG: 'other.json' }, { cwd: dir }).config.worker.concurrency).toBe(3);
    const error = configError(() => resolveConfig({ CONVEYOR_CONFIG: 'missing.json' }, { cwd: dir }));
    expect(error.message).toContain(join(dir, 'missing.json'));
    expect(error.message).toContain('does not exist');
  });

  it('without a file, everything is the default or the environment', () => {
    const { config, file } = resolveConfig({}, { cwd: dir });
    expect(file).toBeNull();
    expect(config).toEqual(loadConfig({}));
  });

  it('an invalid value names the setting, the file and what is allowed', () => {
    const file = writeConfig({ worker: { concurrency: 0 } });
    const error = configError(() => resolveConfig({}, { cwd: dir }));
    expect(error.message).toBe(`worker.concurrency in ${file} must be a whole number from 1 to 1000; got "0"`);
    expect(error.field).toBe('worker.concurrency');
    expect(error.details).toMatchObject({ file });
  });

  it('cross-setting checks name the file too', () => {
    const file = writeConfig({ worker: { lease_ms: 1000, heartbeat_ms: 900 } });
    expect(configError(() => resolveConfig({}, { cwd: dir })).message).toContain(`worker.heartbeat_ms in ${file} must be at most half of worker.lease_ms`);
  });

  it('misspelt sections and keys are errors that list what exists', () => {
    writeConfig({ worker: { concurency: 3 } });
    const key = configError(() => resolveConfig({}, { cwd: dir }));
    expect(key.message).toContain('"worker.concurency", which is not a setting; worker settings are concurrency, poll_interval_ms');
    writeConfig({ wrker: { concurrency: 3 } });
    expect(configError(() => resolveConfig({}, { cwd: dir })).message).toContain('has a section "wrker" that does not exist; sections are database, worker');
  });

  it('malformed files are errors naming the file', () => {
    const file = writeConfig('{ "worker": ');
    expect(configError(() => resolveConfig({}, { cwd: dir })).message).toMatch(new RegExp(`^config file ${file} is not valid JSON`));
    writeConfig({ worker: [1] });
    expect(configError(() => resolveConfig({}, { cwd: dir })).message).toContain('"worker" must be an object of settings');
    writeConfig({ worker: { concurrency: { n: 1 } } });
    expect(configError(() => resolveConfig({}, { cwd: dir })).message).toContain('worker.concurrency in');
  });

  it('null in the file leaves a setting at its default', () => {
    writeConfig({ worker: { concurrency: null } });
    expect(resolveConfig({}, { cwd: dir }).sources['worker.concurrency']).toEqual({ kind: 'default' });
  });
});

describe('settings reference', () => {
  it('describes every setting, with its environment names and default', () => {
    const settings = describeSettings();
    for (const s of settings) {
      expect(s.description, s.field).toMatch(/\S/);
      expect(s.envNames[0]).toBe(`CONVEYOR__${s.section.toUpperCase()}__${s.key.toUpperCase()}`);
    }
    const poll = settings.find((s) => s.field === 'worker.poll_interval_ms')!;
    expect(poll.envNames).toContain('STARTER__WORKER__POLL_INTERVAL_SECS');
    expect(poll.envAllowed.STARTER__WORKER__POLL_INTERVAL_SECS).toContain('seconds');
    expect(settings.find((s) => s.field === 'worker.heartbeat_ms')).toMatchObject({ default: 750, derived: true });
  });

  it('docs/configuration.md is the generated reference (regenerate: conveyor config --defaults --markdown > docs/configuration.md)', () => {
    const docs = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(docs).toBe(configurationMarkdown());
  });
});
