import { describe, expect, test } from 'vitest';
import { DEFAULT_API_CONFIG } from '../../src/api/api-config.ts';
import { apiConfigFrom } from '../../src/cli/commands/serve.ts';
import { loadConfig } from '../../src/cli/config.ts';

describe('server and auth settings from the environment', () => {
  test('defaults match the API\'s defaults', () => {
    expect(apiConfigFrom(loadConfig({}))).toEqual(DEFAULT_API_CONFIG);
  });

  test('CONVEYOR__ names, the starter\'s STARTER__ names and units are read', () => {
    const api = apiConfigFrom(
      loadConfig({
        CONVEYOR__SERVER__PORT: '8080',
        STARTER__SERVER__HOST: '0.0.0.0',
        STARTER__AUTH__SESSION_DURATION_HOURS: '2',
        STARTER__INITIAL_ADMIN_PASSWORD: ' kept as given ',
        CONVEYOR__SERVER__CORS_ORIGINS: 'https://a.example.com, http://localhost:5173',
        CONVEYOR__SERVER__TRUST_PROXY: '10.0.0.0/8,127.0.0.1',
        CONVEYOR__SERVER__DOCS: 'off',
        CONVEYOR__AUTH__PASSWORD_MIN_CLASSES: '2',
        CONVEYOR__AUTH__PASSWORD_REJECT_COMMON: 'false',
      }),
    );
    expect(api.server).toMatchObject({ port: 8080, host: '0.0.0.0', corsOrigins: ['https://a.example.com', 'http://localhost:5173'], trustProxy: ['10.0.0.0/8', '127.0.0.1'] });
    expect(api.auth).toMatchObject({ sessionTtlMs: 7_200_000, initialAdminPassword: ' kept as given ', password: { minClasses: 2, rejectCommon: false } });
    expect(api.docs.enabled).toBe(false);
    expect(Object.isFrozen(api.auth.password)).toBe(true);
  });

  test('every API setting can be configured: batch body limit, task-type cache, password length, argon2 cost, login throttle', () => {
    const api = apiConfigFrom(
      loadConfig({
        CONVEYOR__SERVER__BATCH_BODY_LIMIT_BYTES: '2048',
        CONVEYOR__SERVER__TASK_TYPE_CACHE_MS: '0',
        CONVEYOR__AUTH__PASSWORD_MAX_LENGTH: '64',
        CONVEYOR__AUTH__ARGON2_MEMORY_KIB: '65536',
        CONVEYOR__AUTH__ARGON2_TIME_COST: '3',
        CONVEYOR__AUTH__ARGON2_PARALLELISM: '2',
        CONVEYOR__AUTH__LOGIN_WINDOW_MS: '60000',
        CONVEYOR__AUTH__LOGIN_BASE_BLOCK_MS: '1000',
        CONVEYOR__AUTH__LOGIN_MAX_BLOCK_MS: '10000',
      }),
    );
    expect(api.server.batchBodyLimitBytes).toBe(2048);
    expect(api.taskTypeCacheMs).toBe(0);
    expect(api.auth.password.maxLength).toBe(64);
    expect(api.auth.argon2).toEqual({ memoryKiB: 65_536, timeCost: 3, parallelism: 2 });
    expect(api.auth.loginThrottle).toMatchObject({ windowMs: 60_000, baseBlockMs: 1000, maxBlockMs: 10_000 });
    expect(() => loadConfig({ CONVEYOR__AUTH__ARGON2_MEMORY_KIB: '1024' })).toThrow(/auth\.argon2_memory_kib/);
  });

  test('a bad value or an unknown name is refused naming the setting', () => {
    expect(() => loadConfig({ CONVEYOR__SERVER__CORS_ORIGINS: 'evil' })).toThrow(/server\.cors_origins/);
    expect(() => loadConfig({ CONVEYOR__AUTH__PASSWORD_MIN_CLASSES: '5' })).toThrow(/auth\.password_min_classes/);
    expect(() => loadConfig({ CONVEYOR__AUTH__NOPE: '1' })).toThrow(/CONVEYOR__AUTH__NOPE is not a setting/);
  });
});
