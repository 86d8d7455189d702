import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { ADMIN_PASSWORD, PASSWORD, startApi, TEST_ARGON2, type ApiHarness } from './api-harness.ts';
import { dumpDatabase } from './database-dump.ts';

const HOUR = 3_600_000;

describe.each(testDatabases)('auth routes [$kind]', ({ create }) => {
  let api: ApiHarness;
  let n = 0;
  const fresh = (prefix = 'auth') => `${prefix}${++n}`;
  beforeAll(async () => {
    api = await startApi(create());
  });
  afterAll(async () => api?.close());

  test('register answers 201 with the profile: role user, no token, no hash', async () => {
    const name = fresh();
    const response = await api.call('POST', '/auth/register', { body: { username: name, email: `${name}@example.com`, password: PASSWORD } });
    expect(response.status).toBe(201);
    expect(response.body.success).toBe(true);
    expect(response.body.data).toMatchObject({ username: name, email: `${name}@example.com`, role: 'user', is_active: true, last_login_at: null });
    expect(response.text).not.toContain('argon2');
    expect(response.text).not.toContain('session_token');
  });

  test.each([
    ['username', { username: 'a', email: 'short@example.com', password: PASSWORD }],
    ['username', { username: 'bad name!', email: 'bad@example.com', password: PASSWORD }],
    ['email', { username: 'okname1', email: 'not-an-email', password: PASSWORD }],
    ['email', { username: 'okname2', email: 'a@b.c\r\nBcc: x@y.z', password: PASSWORD }],
    ['password', { username: 'okname3', email: 'ok3@example.com', password: 'Short1!' }],
    ['password', { username: 'okname4', email: 'ok4@example.com', password: 'alllowercaseletters' }],
    ['password', { username: 'okname5', email: 'ok5@example.com', password: 'Password123!' }],
    ['password', { username: 'okname6', email: 'ok6@example.com', password: 'x'.repeat(129) + 'A1' }],
    ['role', { username: 'okname7', email: 'ok7@example.com', password: PASSWORD, role: 'admin' }],
    ['email', { username: 'okname8', password: PASSWORD }],
  ])('register refuses a bad %s with 400 naming it', async (field, body) => {
    const response = await api.call('POST', '/auth/register', { body });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ success: false, error: { code: 'VALIDATION_FAILED', field } });
  });

  test('register answers 409 for a taken username or email, whatever the case, with one answer for both (issue 15: it told which exists)', async () => {
    const name = fresh();
    await api.call('POST', '/auth/register', { body: { username: name, email: `${name}@example.com`, password: PASSWORD } });
    const sameName = await api.call('POST', '/auth/register', { body: { username: name.toUpperCase(), email: `other-${name}@example.com`, password: PASSWORD } });
    expect(sameName.status).toBe(409);
    expect(sameName.body.error).toEqual({ code: 'CONFLICT', message: 'username or email is unavailable; choose another' });
    const sameEmail = await api.call('POST', '/auth/register', { body: { username: `${name}x`, email: `${name.toUpperCase()}@EXAMPLE.com`, password: PASSWORD } });
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.body).toEqual(sameName.body);
  });

  test('login accepts username_or_email (the guide), username or email (the starter)', async () => {
    const me = await api.account('user', 'login');
    for (const body of [
      { username_or_email: me.username, password: PASSWORD },
      { username_or_email: `${me.username}@example.com`, password: PASSWORD },
      { username: me.username, password: PASSWORD },
      { email: `${me.username}@example.com`, password: PASSWORD },
    ]) {
      const response = await api.call('POST', '/auth/login', { body });
      expect(response.status).toBe(200);
      expect(response.body.data.session_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(response.body.data.token_type).toBe('Bearer');
      expect(response.body.data.expires_at).toBe(new Date(api.clock.now().getTime() + 24 * HOUR).toISOString());
      expect(response.body.data.user).toMatchObject({ id: me.id, username: me.username, role: 'user' });
    }
  });

  test('login answers 400 naming the field unless exactly one login name and a password are given', async () => {
    const none = await api.call('POST', '/auth/login', { body: { password: PASSWORD } });
    expect(none.status).toBe(400);
    expect(none.body.error.field).toBe('username_or_email');
    const two = await api.call('POST', '/auth/login', { body: { username: 'a', email: 'a@example.com', password: PASSWORD } });
    expect(two.status).toBe(400);
    expect(two.body.error.field).toBe('username_or_email');
    const noPassword = await api.call('POST', '/auth/login', { body: { username: 'a' } });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.error.field).toBe('password');
  });

  test('an unknown user and a wrong password get the same 401 answer', async () => {
    const me = await api.account('user', 'same');
    const unknown = await api.call('POST', '/auth/login', { body: { username_or_email: 'nobody-at-all', password: PASSWORD } });
    const wrong = await api.call('POST', '/auth/login', { body: { username_or_email: me.username, password: 'Wrong-Password-1' } });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(unknown.body.error.code).toBe('INVALID_CREDENTIALS');
  });

  test('repeated failed logins for one account answer 429 with Retry-After, even with the right password, until the block ends', async () => {
    const me = await api.account('user', 'throttle');
    for (let i = 0; i < 5; i++) {
      const response = await api.call('POST', '/auth/login', { body: { username: me.username, password: `Wrong-${i}-Password` } });
      expect(response.status).toBe(401);
    }
    const blocked = await api.call('POST', '/auth/login', { body: { username: me.username, password: PASSWORD } });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('TOO_MANY_LOGIN_ATTEMPTS');
    expect(Number(blocked.headers.get('retry-after'))).toBe(30);
    // An unknown name is throttled exactly the same way, so the throttle reveals nothing.
    for (let i = 0; i < 5; i++) await api.call('POST', '/auth/login', { body: { username: 'never-registered', password: `Wrong-${i}-Password` } });
    const unknown = await api.call('POST', '/auth/login', { body: { username: 'never-registered', password: PASSWORD } });
    expect(unknown.status).toBe(429);
    expect(unknown.body).toEqual(blocked.body);
    api.clock.advance(31_000);
    const allowed = await api.call('POST', '/auth/login', { body: { username: me.username, password: PASSWORD } });
    expect(allowed.status).toBe(200);
  });

  test('GET /auth/me returns the caller; 401 without a token, with a forged one or a malformed header', async () => {
    const me = await api.account('user', 'me');
    const response = await api.call('GET', '/auth/me', { token: me.token });
    expect(response.status).toBe(200);
    expect(response.body.data).toMatchObject({ id: me.id, username: me.username, role: 'user' });
    expect(response.body.data.last_login_at).not.toBeNull();
    for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${'A'.repeat(43)}` }, { authorization: 'Bearer' }, { authorization: `Basic ${me.token}` }, { authorization: `Bearer ${me.token}x` }]) {
      const denied = await api.call('GET', '/auth/me', { headers });
      expect(denied.status).toBe(401);
      expect(denied.body).toMatchObject({ success: false, error: { code: 'UNAUTHORIZED' } });
    }
  });

  test('refresh extends the session; a second refresh within 5 minutes answers 409; later it works again', async () => {
    const me = await api.account('user', 'refresh');
    api.clock.advance(HOUR);
    const first = await api.call('POST', '/auth/refresh', { token: me.token });
    expect(first.status).toBe(200);
    expect(first.body.data).toEqual({ expires_at: new Date(api.clock.now().getTime() + 24 * HOUR).toISOString(), refreshed_at: api.clock.now().toISOString() });
    const again = await api.call('POST', '/auth/refresh', { token: me.token });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
    api.clock.advance(6 * 60_000);
    expect((await api.call('POST', '/auth/refresh', { token: me.token })).status).toBe(200);
    // The session now lives past the original 24 h.
    api.clock.advance(23.5 * HOUR);
    expect((await api.call('GET', '/auth/me', { token: me.token })).status).toBe(200);
    expect((await api.call('POST', '/auth/refresh')).status).toBe(401);
  });

  test('logout ends this session only; logout-all ends every session of the user', async () => {
    const me = await api.account('user', 'logout');
    const second = await api.login(me.username, PASSWORD);
    const third = await api.login(me.username, PASSWORD);
    const out = await api.call('POST', '/auth/logout', { token: me.token, headers: { 'content-type': 'application/json' } });
    expect(out.status).toBe(200);
    expect((await api.call('GET', '/auth/me', { token: me.token })).status).toBe(401);
    expect((await api.call('GET', '/auth/me', { token: second })).status).toBe(200);
    const all = await api.call('POST', '/auth/logout-all', { token: second });
    expect(all.status).toBe(200);
    expect(all.body.data.sessions_ended).toBe(2);
    expect((await api.call('GET', '/auth/me', { token: second })).status).toBe(401);
    expect((await api.call('GET', '/auth/me', { token: third })).status).toBe(401);
    expect((await api.call('POST', '/auth/logout', { token: second })).status).toBe(401);
    expect((await api.call('POST', '/auth/logout-all')).status).toBe(401);
  });

  test('a session expires after 24 hours: its token answers 401', async () => {
    const me = await api.account('user', 'expire');
    api.clock.advance(24 * HOUR - 1_000);
    expect((await api.call('GET', '/auth/me', { token: me.token })).status).toBe(200);
    api.clock.advance(2_000);
    const expired = await api.call('GET', '/auth/me', { token: me.token });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('UNAUTHORIZED');
  });

  test('a deactivated account can neither use its token nor log in', async () => {
    const me = await api.account('user', 'inactive');
    await api.engine.userUpdate({ id: me.id, changes: { isActive: false }, now: api.clock.now() });
    expect((await api.call('GET', '/auth/me', { token: me.token })).status).toBe(401);
    const login = await api.call('POST', '/auth/login', { body: { username: me.username, password: PASSWORD } });
    expect(login.status).toBe(401);
    expect(login.body.error.code).toBe('INVALID_CREDENTIALS');
  });

  test('the initial admin comes from the configuration', async () => {
    const token = await api.login('admin', ADMIN_PASSWORD);
    const me = await api.call('GET', '/auth/me', { token });
    expect(me.body.data).toMatchObject({ username: 'admin', role: 'admin' });
  });

  test('every auth route also answers under /api/v1', async () => {
    const name = fresh('v1');
    const registered = await api.call('POST', '/api/v1/auth/register', { body: { username: name, email: `${name}@example.com`, password: PASSWORD } });
    expect(registered.status).toBe(201);
    const login = await api.call('POST', '/api/v1/auth/login', { body: { username: name, password: PASSWORD } });
    expect(login.status).toBe(200);
    const token = login.body.data.session_token;
    expect((await api.call('GET', '/api/v1/auth/me', { token })).status).toBe(200);
    expect((await api.call('POST', '/api/v1/auth/refresh', { token })).status).toBe(200);
    expect((await api.call('POST', '/api/v1/auth/logout-all', { token })).status).toBe(200);
    expect((await api.call('POST', '/api/v1/auth/logout', { token })).status).toBe(401);
  });

  test('no plaintext password or token is stored in the database or written to the logs', async () => {
    const password = 'Plaintext-Canary-93!';
    const name = fresh('canary');
    await api.call('POST', '/auth/register', { body: { username: name, email: `${name}@example.com`, password } });
    const token = await api.login(name, password);
    await api.call('GET', '/auth/me', { token });
    await api.call('POST', '/auth/login', { body: { username: name, password: `${password}-wrong` } });
    const stored = await dumpDatabase(api.db);
    // The test server's cheap parameters (production's are proven in test/unit/password-hasher.test.ts).
    expect(stored).toContain(`$argon2id$v=19$m=${TEST_ARGON2.memoryKiB},t=${TEST_ARGON2.timeCost},p=${TEST_ARGON2.parallelism}$`);
    expect(stored).toContain(name);
    for (const secret of [password, token, ADMIN_PASSWORD, PASSWORD]) expect(stored).not.toContain(secret);
    const logs = api.logs.join('');
    expect(logs).toContain('incoming request');
    for (const secret of [password, token, ADMIN_PASSWORD, PASSWORD]) expect(logs).not.toContain(secret);
  });
});

describe.each(testDatabases)('auth abuse limits [$kind]', ({ create }) => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi(create(), { auth: { registerPerMinute: 3, loginThrottle: { addressMaxFailures: 4, pairMaxFailures: 100, accountMaxFailures: 100 } } });
  });
  afterAll(async () => api?.close());

  test('failed logins from one address across many accounts are throttled (429 + Retry-After)', async () => {
    for (let i = 0; i < 4; i++) {
      expect((await api.call('POST', '/auth/login', { body: { username: `spray${i}`, password: PASSWORD } })).status).toBe(401);
    }
    const blocked = await api.call('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    api.clock.advance(31_000);
    expect((await api.call('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } })).status).toBe(200);
  });

  test('registrations per address are limited (429 + Retry-After)', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await api.call('POST', '/auth/register', { body: { username: `reg${i}`, email: `reg${i}@example.com`, password: PASSWORD } });
      expect(response.status).toBe(201);
    }
    const limited = await api.call('POST', '/auth/register', { body: { username: 'reg9', email: 'reg9@example.com', password: PASSWORD } });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
