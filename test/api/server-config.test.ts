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

  test('a bad value or an unknown name is refused naming the setting', () => {
    expect(() => loadConfig({ CONVEYOR__SERVER__CORS_ORIGINS: 'evil' })).toThrow(/server\.cors_origins/);
    expect(() => loadConfig({ CONVEYOR__AUTH__PASSWORD_MIN_CLASSES: '5' })).toThrow(/auth\.password_min_classes/);
    expect(() => loadConfig({ CONVEYOR__AUTH__NOPE: '1' })).toThrow(/CONVEYOR__AUTH__NOPE is not a setting/);
  });
});
