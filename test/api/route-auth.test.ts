import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { PASSWORD, startApi, type ApiHarness } from './api-harness.ts';

const SAMPLE_ID = '01900000-0000-7000-8000-000000000000';

/**
 * Every route the OpenAPI document marks as needing a bearer token, at both its paths, refuses a
 * missing, forged, revoked and expired token with the 401 envelope. Read from the document, so a
 * route added later is covered without touching this file.
 */
describe.each(testDatabases)('authentication on every route [$kind]', ({ create }) => {
  let api: ApiHarness;
  let routes: { method: string; path: string }[] = [];
  let publicRoutes: { method: string; path: string }[] = [];
  beforeAll(async () => {
    api = await startApi(create());
    const doc = (await api.call('GET', '/api-docs/openapi.json')).body;
    for (const [path, operations] of Object.entries<Record<string, { security?: unknown[] }>>(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const concrete = path.replace('{id}', SAMPLE_ID).replace('{task_type}', 'email');
        // Public operations declare `security: []` (no scheme needed).
        (operation.security?.length ? routes : publicRoutes).push({ method: method.toUpperCase(), path: concrete });
      }
    }
  });
  afterAll(async () => api?.close());

  const everyPath = (list: { method: string; path: string }[]) => list.flatMap((r) => [r, { ...r, path: `/api/v1${r.path}` }]);

  test('the document lists the protected and public routes', () => {
    expect(routes.length).toBeGreaterThanOrEqual(17);
    expect(publicRoutes.map((r) => r.path).sort()).toEqual(['/auth/login', '/auth/password-reset', '/auth/register', '/health', '/health/live', '/health/ready']);
  });

  test('every protected route answers 401 without a token or with a forged one', async () => {
    for (const { method, path } of everyPath(routes)) {
      for (const token of [undefined, 'A'.repeat(43)]) {
        const response = await api.call(method, path, { token });
        expect(response.status, `${method} ${path}`).toBe(401);
        expect(response.body, `${method} ${path}`).toEqual({ success: false, error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
      }
    }
  });

  test('every protected route answers 401 with a revoked token', async () => {
    const admin = await api.account('admin');
    await api.call('POST', '/auth/logout', { token: admin.token });
    for (const { method, path } of everyPath(routes)) {
      expect((await api.call(method, path, { token: admin.token })).status, `${method} ${path}`).toBe(401);
    }
  });

  test('every protected route answers 401 with an expired token', async () => {
    const admin = await api.account('admin');
    const fresh = await api.login(admin.username, PASSWORD);
    api.clock.advance(24 * 3_600_000 + 1);
    for (const { method, path } of everyPath(routes)) {
      expect((await api.call(method, path, { token: fresh })).status, `${method} ${path}`).toBe(401);
    }
  });
});
