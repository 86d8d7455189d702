import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { ADMIN_PASSWORD, PASSWORD, startApi, type Account, type ApiHarness } from './api-harness.ts';

const MISSING_ID = '01900000-0000-7000-8000-000000000000';

describe.each(testDatabases)('user administration [$kind]', ({ create }) => {
  let api: ApiHarness;
  let user: Account;
  let moderator: Account;
  let admin: Account;
  let rootToken: string;
  let rootId: string;
  beforeAll(async () => {
    api = await startApi(create());
    [user, moderator, admin] = [await api.account('user', 'plain'), await api.account('moderator', 'mod'), await api.account('admin', 'boss')];
    rootToken = await api.login('admin', ADMIN_PASSWORD);
    rootId = (await api.call('GET', '/auth/me', { token: rootToken })).body.data.id;
  });
  afterAll(async () => api?.close());

  test('GET /users lists every account, oldest first, paged by limit and offset, without password hashes', async () => {
    for (let i = 0; i < 3; i++) await api.account('user', 'page');
    const total = await api.engine.userCount({});
    const first = await api.call('GET', '/users', { token: admin.token });
    expect(first.status).toBe(200);
    expect(first.body.pagination).toEqual({ limit: 50, offset: 0, total });
    expect(first.body.data).toHaveLength(total);
    // Oldest first (accounts made in the same millisecond follow their ids).
    const created = first.body.data.map((u: any) => u.created_at);
    expect(created).toEqual([...created].sort());
    expect(first.body.data.find((u: any) => u.id === rootId)).toEqual({
      id: rootId, username: 'admin', email: expect.any(String), role: 'admin', is_active: true, created_at: expect.any(String), last_login_at: expect.any(String),
    });
    expect(first.body.data.find((u: any) => u.id === moderator.id)).toMatchObject({ username: moderator.username, role: 'moderator', is_active: true });
    // Nothing of the password travels: not the hash, not a field named after it.
    expect(first.text).not.toContain('argon2');
    expect(first.text.toLowerCase()).not.toContain('password');
    for (const listed of first.body.data) expect(Object.keys(listed).sort()).toEqual(['created_at', 'email', 'id', 'is_active', 'last_login_at', 'role', 'username']);

    // Pages of 2 cover every account exactly once, in the same order.
    const seen: string[] = [];
    for (let offset = 0; offset < total; offset += 2) {
      const page = await api.call('GET', `/api/v1/users?limit=2&offset=${offset}`, { token: rootToken });
      expect(page.status).toBe(200);
      expect(page.body.pagination).toEqual({ limit: 2, offset, total });
      expect(page.body.data.length).toBe(Math.min(2, total - offset));
      seen.push(...page.body.data.map((u: any) => u.id));
    }
    expect(seen).toEqual(first.body.data.map((u: any) => u.id));
    const past = await api.call('GET', `/users?offset=${total}`, { token: admin.token });
    expect(past.body).toMatchObject({ data: [], pagination: { total } });
  });

  test('GET /users refuses bad paging with 400 naming the field', async () => {
    for (const [query, field] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['offset=-1', 'offset'], ['offset=many', 'offset'], ['role=admin', 'role']]) {
      const bad = await api.call('GET', `/users?${query}`, { token: admin.token });
      expect(bad.status, query).toBe(400);
      expect(bad.body.error, query).toMatchObject({ code: 'VALIDATION_FAILED', field });
    }
  });

  test('only admins reach the user routes: moderators and users get 403, anonymous callers 401', async () => {
    for (const prefix of ['', '/api/v1']) {
      for (const who of [user, moderator]) {
        const list = await api.call('GET', `${prefix}/users`, { token: who.token });
        expect(list.status).toBe(403);
        expect(list.body.error.code).toBe('FORBIDDEN');
        const patch = await api.call('PATCH', `${prefix}/users/${user.id}`, { token: who.token, body: { role: 'admin' } });
        expect(patch.status).toBe(403);
      }
      expect((await api.call('GET', `${prefix}/users`)).status).toBe(401);
      expect((await api.call('PATCH', `${prefix}/users/${user.id}`, { body: { role: 'admin' } })).status).toBe(401);
    }
    // Nothing changed on the way.
    expect((await api.engine.userGet({ id: user.id }))?.role).toBe('user');
  });

  test('PATCH /users/:id changes a role, which takes effect on the user\'s next request', async () => {
    const target = await api.account('user', 'promote');
    expect((await api.call('GET', '/workers', { token: target.token })).status).toBe(403);

    const promoted = await api.call('PATCH', `/users/${target.id}`, { token: admin.token, body: { role: 'moderator' } });
    expect(promoted.status).toBe(200);
    expect(promoted.body.data).toMatchObject({ id: target.id, username: target.username, role: 'moderator', is_active: true, sessions_ended: 0 });
    expect(promoted.text).not.toContain('argon2');
    expect((await api.call('GET', '/workers', { token: target.token })).status).toBe(200);
    expect((await api.call('GET', '/auth/me', { token: target.token })).body.data.role).toBe('moderator');

    // Another admin may be demoted; the change is logged with who made it.
    const otherAdmin = await api.account('admin', 'demote');
    const demoted = await api.call('PATCH', `/api/v1/users/${otherAdmin.id}`, { token: admin.token, body: { role: 'user' } });
    expect(demoted.status).toBe(200);
    expect(demoted.body.data.role).toBe('user');
    expect((await api.call('GET', '/users', { token: otherAdmin.token })).status).toBe(403);
    const audit = api.logs.map((line) => JSON.parse(line)).find((l) => l.msg === 'user account changed by an admin' && l.targetUserId === otherAdmin.id);
    expect(audit).toMatchObject({ by: admin.id, role: { from: 'admin', to: 'user' } });
  });

  test('deactivating a user ends every session and refuses logins; reactivating lets them log in again', async () => {
    const target = await api.account('user', 'deact');
    const second = await api.login(target.username, PASSWORD);
    const off = await api.call('PATCH', `/users/${target.id}`, { token: admin.token, body: { is_active: false } });
    expect(off.status).toBe(200);
    expect(off.body.data).toMatchObject({ id: target.id, is_active: false, sessions_ended: 2 });
    for (const token of [target.token, second]) expect((await api.call('GET', '/auth/me', { token })).status).toBe(401);
    const refused = await api.call('POST', '/auth/login', { body: { username_or_email: target.username, password: PASSWORD } });
    expect(refused.status).toBe(401);
    const listed = (await api.call('GET', '/users', { token: admin.token })).body.data.find((u: any) => u.id === target.id);
    expect(listed.is_active).toBe(false);

    const on = await api.call('PATCH', `/users/${target.id}`, { token: admin.token, body: { is_active: true } });
    expect(on.status).toBe(200);
    expect(on.body.data).toMatchObject({ is_active: true, sessions_ended: 0 });
    const token = await api.login(target.username, PASSWORD);
    expect((await api.call('GET', '/auth/me', { token })).status).toBe(200);

    // Both at once: a role and the active state.
    const both = await api.call('PATCH', `/users/${target.id}`, { token: admin.token, body: { role: 'moderator', is_active: false } });
    expect(both.body.data).toMatchObject({ role: 'moderator', is_active: false, sessions_ended: 1 });
  });

  test('an admin cannot demote or deactivate themselves (409 naming the field)', async () => {
    const demote = await api.call('PATCH', `/users/${admin.id}`, { token: admin.token, body: { role: 'moderator' } });
    expect(demote.status).toBe(409);
    expect(demote.body.error).toMatchObject({ code: 'CONFLICT', field: 'role' });
    const deactivate = await api.call('PATCH', `/users/${admin.id}`, { token: admin.token, body: { is_active: false } });
    expect(deactivate.status).toBe(409);
    expect(deactivate.body.error).toMatchObject({ code: 'CONFLICT', field: 'is_active' });
    // Restating what already holds is harmless.
    const same = await api.call('PATCH', `/users/${admin.id}`, { token: admin.token, body: { role: 'admin', is_active: true } });
    expect(same.status).toBe(200);
    const me = await api.engine.userGet({ id: admin.id });
    expect(me).toMatchObject({ role: 'admin', isActive: true });
    expect((await api.call('GET', '/auth/me', { token: admin.token })).status).toBe(200);
  });

  test('PATCH /users/:id answers 404 for an unknown user and 400 naming the field for bad input', async () => {
    const missing = await api.call('PATCH', `/users/${MISSING_ID}`, { token: admin.token, body: { role: 'moderator' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    const cases: [string, unknown, string][] = [
      ['/users/not-a-uuid', { role: 'user' }, 'id'],
      [`/users/${user.id}`, { role: 'superuser' }, 'role'],
      [`/users/${user.id}`, { is_active: 'no' }, 'is_active'],
      [`/users/${user.id}`, { password: 'x' }, 'password'],
      [`/users/${user.id}`, {}, 'body'],
    ];
    for (const [path, body, field] of cases) {
      const bad = await api.call('PATCH', path, { token: admin.token, body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.error, JSON.stringify(body)).toMatchObject({ code: 'VALIDATION_FAILED', field });
    }
    expect((await api.engine.userGet({ id: user.id }))).toMatchObject({ role: 'user', isActive: true });
  });

  test('the routes are in the OpenAPI document, with their schemas', async () => {
    const doc = (await api.call('GET', '/api-docs/openapi.json')).body;
    expect(doc.paths['/users'].get).toMatchObject({ tags: ['users'], security: [{ bearerAuth: [] }] });
    expect(doc.paths['/users'].get.parameters.map((p: any) => p.name).sort()).toEqual(['limit', 'offset']);
    const patch = doc.paths['/users/{id}'].patch;
    expect(Object.keys(patch.requestBody.content['application/json'].schema.properties).sort()).toEqual(['is_active', 'role']);
    expect(Object.keys(patch.responses).sort()).toEqual(['200', '400', '401', '403', '404', '409', '413', '415', '429', 'default']);
  });
});
