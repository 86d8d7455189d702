import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { ADMIN_PASSWORD, PASSWORD, startApi, type ApiHarness } from './api-harness.ts';

const HOUR = 3_600_000;
const NEW_PASSWORD = 'Battery-Staple-57';

/**
 * Issue 15's accounts, end to end over real HTTP: registration policies and invitations, password
 * change and admin-issued reset, and a login throttle a stranger cannot use to lock the owner out.
 */
describe.each(testDatabases)('registration policy and invitations [$kind]', ({ create }) => {
  let api: ApiHarness;
  let admin: string;
  let n = 0;
  const fresh = () => `inv${++n}`;
  const register = (name: string, invitation?: string) =>
    api.call('POST', '/auth/register', { body: { username: name, email: `${name}@example.com`, password: PASSWORD, ...(invitation === undefined ? {} : { invitation_token: invitation }) } });
  beforeAll(async () => {
    api = await startApi(create(), { auth: { registration: 'invite' } });
    admin = await api.login('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => api?.close());

  test('under invite, registering needs an invitation (403); a bad one answers 400 on invitation_token', async () => {
    const none = await register(fresh());
    expect(none.status).toBe(403);
    expect(none.body.error).toMatchObject({ code: 'FORBIDDEN', field: 'invitation_token' });
    const bad = await register(fresh(), 'A'.repeat(43));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'invitation_token' });
  });

  test('a moderator invites; the invitation registers one account with the role user, once', async () => {
    const moderator = await api.engine.userInsert({
      user: { id: '0190a4c2-0000-7000-8000-00000000d0d0', username: 'mod1', email: 'mod1@example.com', passwordHash: (await api.engine.userFind({ login: 'admin' }))!.passwordHash, role: 'moderator', createdAt: api.clock.now() },
    });
    const modToken = await api.login(moderator.username, ADMIN_PASSWORD);
    const issued = await api.call('POST', '/users/invitations', { token: modToken, body: {} });
    expect(issued.status).toBe(201);
    expect(issued.body.data).toMatchObject({ role: 'user', expires_at: new Date(api.clock.now().getTime() + 7 * 24 * HOUR).toISOString() });
    const invitation = issued.body.data.invitation_token as string;
    // The token is never stored, only its hash.
    expect(JSON.stringify(await api.engine.accountTokenGet({ tokenHash: 'x', kind: 'invitation', now: api.clock.now() }))).not.toContain(invitation);

    const name = fresh();
    const made = await register(name, invitation);
    expect(made.status).toBe(201);
    expect(made.body.data).toMatchObject({ username: name, role: 'user' });
    const again = await register(fresh(), invitation);
    expect(again.status).toBe(400);
    expect(again.body.error.field).toBe('invitation_token');

    // Only an admin may invite above user; a user may not invite at all.
    const higher = await api.call('POST', '/users/invitations', { token: modToken, body: { role: 'admin' } });
    expect(higher.status).toBe(403);
    expect(higher.body.error.field).toBe('role');
    const user = await api.login(name, PASSWORD);
    expect((await api.call('POST', '/users/invitations', { token: user, body: {} })).status).toBe(403);
  });

  test('an admin invites a moderator; a failed registration leaves the invitation usable; it expires', async () => {
    const issued = await api.call('POST', '/users/invitations', { token: admin, body: { role: 'moderator', expires_in_hours: 1 } });
    expect(issued.status).toBe(201);
    const invitation = issued.body.data.invitation_token as string;
    // A taken name: 409, and the invitation is not spent.
    const taken = await api.call('POST', '/auth/register', { body: { username: 'admin', email: 'new-admin@example.com', password: PASSWORD, invitation_token: invitation } });
    expect(taken.status).toBe(409);
    const weak = await api.call('POST', '/auth/register', { body: { username: fresh(), email: 'weak@example.com', password: 'password123', invitation_token: invitation } });
    expect(weak.status).toBe(400);
    expect(weak.body.error.field).toBe('password');
    const name = fresh();
    expect((await register(name, invitation)).body.data).toMatchObject({ username: name, role: 'moderator' });

    const short = (await api.call('POST', '/users/invitations', { token: admin, body: { expires_in_hours: 1 } })).body.data.invitation_token as string;
    api.clock.advance(HOUR + 1);
    expect((await register(fresh(), short)).status).toBe(400);
  });

  test('open invitations are listed without their tokens and can be revoked; a revoked one registers nobody', async () => {
    const moderator = await api.engine.userInsert({
      user: { id: '0190a4c2-0000-7000-8000-00000000d0d1', username: 'mod2', email: 'mod2@example.com', passwordHash: (await api.engine.userFind({ login: 'admin' }))!.passwordHash, role: 'moderator', createdAt: api.clock.now() },
    });
    const modToken = await api.login(moderator.username, ADMIN_PASSWORD);
    const invite = async (token: string, body: object) => (await api.call('POST', '/users/invitations', { token, body })).body.data as { id: string; invitation_token: string; expires_at: string };
    const forUser = await invite(modToken, {});
    const forAdmin = await invite(admin, { role: 'admin' });
    const used = await invite(admin, {});
    const name = fresh();
    expect((await register(name, used.invitation_token)).status).toBe(201);

    const listed = await api.call('GET', '/users/invitations', { token: admin });
    expect(listed.status).toBe(200);
    const ids = (listed.body.data as { id: string }[]).map((invitation) => invitation.id);
    expect(ids).toEqual(expect.arrayContaining([forUser.id, forAdmin.id]));
    expect(ids).not.toContain(used.id);
    expect(listed.body.data.find((invitation: { id: string }) => invitation.id === forUser.id)).toEqual({
      id: forUser.id, role: 'user', created_by: moderator.id, created_at: api.clock.now().toISOString(), expires_at: forUser.expires_at,
    });
    expect(JSON.stringify(listed.body)).not.toContain(forUser.invitation_token);

    // A moderator sees, and revokes, invitations to the user role only; a user none at all.
    const modIds = ((await api.call('GET', '/users/invitations', { token: modToken })).body.data as { id: string }[]).map((invitation) => invitation.id);
    expect(modIds).toContain(forUser.id);
    expect(modIds).not.toContain(forAdmin.id);
    expect((await api.call('POST', `/users/invitations/${forAdmin.id}/revoke`, { token: modToken })).status).toBe(404);
    const user = await api.login(name, PASSWORD);
    expect((await api.call('GET', '/users/invitations', { token: user })).status).toBe(403);
    expect((await api.call('POST', `/users/invitations/${forUser.id}/revoke`, { token: user })).status).toBe(403);

    const revoked = await api.call('POST', `/users/invitations/${forUser.id}/revoke`, { token: modToken });
    expect(revoked.status).toBe(200);
    expect(revoked.body.data).toEqual({ id: forUser.id, revoked: true });
    expect((await api.call('POST', `/users/invitations/${forUser.id}/revoke`, { token: modToken })).status).toBe(404);
    expect((await register(fresh(), forUser.invitation_token)).status).toBe(400);
    const malformed = await api.call('POST', '/users/invitations/not-an-id/revoke', { token: admin });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.field).toBe('id');
    expect((await api.call('POST', `/users/invitations/${forAdmin.id}/revoke`, { token: admin })).status).toBe(200);
    expect(((await api.call('GET', '/users/invitations', { token: admin })).body.data as { id: string }[]).map((invitation) => invitation.id)).not.toContain(forAdmin.id);
  });

  test('under closed, nobody registers, invitation or not', async () => {
    const closed = await startApi(create(), { auth: { registration: 'closed' } });
    try {
      const response = await closed.call('POST', '/auth/register', { body: { username: 'stranger', email: 'stranger@example.com', password: PASSWORD } });
      expect(response.status).toBe(403);
      expect(response.body.error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/closed/) });
    } finally {
      await closed.close();
    }
  });
});

describe.each(testDatabases)('password change and reset [$kind]', ({ create }) => {
  let api: ApiHarness;
  let admin: string;
  beforeAll(async () => {
    api = await startApi(create());
    admin = await api.login('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => api?.close());

  test('a change needs the current password, follows the policy, and ends every other session', async () => {
    const me = await api.account('user', 'change');
    const other = await api.login(me.username, PASSWORD);
    const wrong = await api.call('POST', '/auth/password', { token: me.token, body: { current_password: 'Not-My-Password-1', new_password: NEW_PASSWORD } });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error).toMatchObject({ code: 'FORBIDDEN', field: 'current_password' });
    const weak = await api.call('POST', '/auth/password', { token: me.token, body: { current_password: PASSWORD, new_password: 'password123' } });
    expect(weak.status).toBe(400);
    expect(weak.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'password' });

    const changed = await api.call('POST', '/auth/password', { token: me.token, body: { current_password: PASSWORD, new_password: NEW_PASSWORD } });
    expect(changed.status).toBe(200);
    expect(changed.body.data.sessions_ended).toBe(1);
    expect((await api.call('GET', '/auth/me', { token: me.token })).status).toBe(200);
    expect((await api.call('GET', '/auth/me', { token: other })).status).toBe(401);
    expect((await api.call('POST', '/auth/login', { body: { username_or_email: me.username, password: PASSWORD } })).status).toBe(401);
    expect((await api.call('POST', '/auth/login', { body: { username_or_email: me.username, password: NEW_PASSWORD } })).status).toBe(200);
    // Anonymous callers cannot reach it.
    expect((await api.call('POST', '/auth/password', { body: { current_password: PASSWORD, new_password: NEW_PASSWORD } })).status).toBe(401);
  });

  test('wrong current passwords are throttled like logins (429 + Retry-After)', async () => {
    const me = await api.account('user', 'guess');
    for (let i = 0; i < 5; i++) {
      expect((await api.call('POST', '/auth/password', { token: me.token, body: { current_password: `Guess-${i}-Wrong`, new_password: NEW_PASSWORD } })).status).toBe(403);
    }
    const blocked = await api.call('POST', '/auth/password', { token: me.token, body: { current_password: PASSWORD, new_password: NEW_PASSWORD } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  test('an admin issues a reset; the owner sets a new password with it once; every session ends', async () => {
    const me = await api.account('user', 'reset');
    const user = await api.account('user', 'notadmin');
    expect((await api.call('POST', `/users/${me.id}/password-reset`, { token: user.token })).status).toBe(403);
    const unknown = await api.call('POST', '/users/0190a4c2-0000-7000-8000-00000000ffff/password-reset', { token: admin });
    expect(unknown.status, unknown.text).toBe(404);

    const issued = await api.call('POST', `/users/${me.id}/password-reset`, { token: admin });
    expect(issued.status).toBe(201);
    expect(issued.body.data).toMatchObject({ user_id: me.id, expires_at: new Date(api.clock.now().getTime() + HOUR).toISOString() });
    const token = issued.body.data.reset_token as string;
    // Issuing changes nothing yet: the old password still works.
    expect((await api.call('GET', '/auth/me', { token: me.token })).status).toBe(200);
    // A reset token is not an invitation (registration is open here, and an invitation given is still checked).
    const asInvitation = await api.call('POST', '/auth/register', { body: { username: 'resetinv', email: 'resetinv@example.com', password: PASSWORD, invitation_token: token } });
    expect(asInvitation.status).toBe(400);
    expect(asInvitation.body.error.field).toBe('invitation_token');

    const weak = await api.call('POST', '/auth/password-reset', { body: { token, new_password: me.username } });
    expect(weak.status).toBe(400);
    expect(weak.body.error.field).toBe('password');
    const done = await api.call('POST', '/auth/password-reset', { body: { token, new_password: NEW_PASSWORD } });
    expect(done.status).toBe(200);
    expect(done.body.data.sessions_ended).toBe(1);
    expect((await api.call('GET', '/auth/me', { token: me.token })).status).toBe(401);
    expect((await api.call('POST', '/auth/login', { body: { username_or_email: me.username, password: NEW_PASSWORD } })).status).toBe(200);
    const reused = await api.call('POST', '/auth/password-reset', { body: { token, new_password: 'Another-Pass-99' } });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'token' });

    const late = (await api.call('POST', `/users/${me.id}/password-reset`, { token: admin })).body.data.reset_token as string;
    api.clock.advance(HOUR + 1);
    expect((await api.call('POST', '/auth/password-reset', { body: { token: late, new_password: 'Another-Pass-99' } })).status).toBe(400);
  });
});

describe.each(testDatabases)('login throttle across addresses [$kind]', ({ create }) => {
  let api: ApiHarness;
  // Behind a trusted proxy the client address is X-Forwarded-For's, so a test can speak from several.
  const loginFrom = (address: string, login: string, password: string) =>
    api.call('POST', '/auth/login', { body: { username_or_email: login, password }, headers: { 'x-forwarded-for': address } });
  beforeAll(async () => {
    api = await startApi(create(), { server: { trustProxy: true }, auth: { loginThrottle: { accountMaxFailures: 12 } } });
  });
  afterAll(async () => api?.close());

  test('five wrong passwords each for a username and its email do not lock the owner out (issue 15)', async () => {
    const owner = await api.account('user', 'owner');
    for (let i = 0; i < 5; i++) {
      expect((await loginFrom('203.0.113.9', owner.username, `Wrong-${i}-Guess`)).status).toBe(401);
      expect((await loginFrom('203.0.113.9', `${owner.username}@example.com`, `Wrong-${i}-Guess`)).status).toBe(401);
    }
    // The stranger is slowed, even with the right password...
    expect((await loginFrom('203.0.113.9', owner.username, PASSWORD)).status).toBe(429);
    // ...the owner, elsewhere, is not.
    expect((await loginFrom('10.0.0.1', owner.username, PASSWORD)).status).toBe(200);
    expect((await loginFrom('10.0.0.1', `${owner.username}@example.com`, PASSWORD)).status).toBe(200);
  });

  test('guessing spread over many addresses slows new addresses, not the owner\'s known one', async () => {
    const owner = await api.account('user', 'spread');
    expect((await loginFrom('10.0.0.2', owner.username, PASSWORD)).status).toBe(200);
    for (let i = 0; i < 12; i++) expect((await loginFrom(`198.51.100.${i}`, owner.username, `Wrong-${i}-Guess`)).status).toBe(401);
    expect((await loginFrom('198.51.100.200', owner.username, PASSWORD)).status).toBe(429);
    expect((await loginFrom('10.0.0.2', owner.username, PASSWORD)).status).toBe(200);
  });
});
