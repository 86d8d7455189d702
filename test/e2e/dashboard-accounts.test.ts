import { createHash } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { ADMIN_PASSWORD, PASSWORD, signIn, startRig, type DashboardRig } from './dashboard-harness.ts';

/**
 * Issue 15's account flows in Chromium against the real API (both engines), on a server that takes
 * new accounts by invitation only: an admin invites from the Users page and the invitee registers
 * through the link; an admin issues a password reset there and the owner sets a new password through
 * its link; a user changes their password on their account page, which signs out their other sessions.
 */
describe.each(testDatabases)('dashboard invitations, password reset and change [$kind]', ({ create }) => {
  let rig: DashboardRig;
  let adminToken: string;

  beforeAll(async () => {
    rig = await startRig(create(), { auth: { registration: 'invite' } });
    adminToken = await rig.login('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => rig?.close());

  /** An account made the way this server allows: through an invitation. */
  const invited = async (username: string) => {
    const invitation = (await rig.call('POST', '/users/invitations', adminToken, {})).body.data.invitation_token;
    const made = await rig.call('POST', '/auth/register', undefined, { username, email: `${username}@example.com`, password: PASSWORD, invitation_token: invitation });
    if (made.status !== 201) throw new Error(`register ${username}: ${made.status} ${JSON.stringify(made.body)}`);
    return { id: made.body.data.id as string, token: await rig.login(username, PASSWORD) };
  };
  const issuedLink = (page: Page) => page.locator('#issued-link').inputValue();

  test('without an invitation the register form says one is needed; an admin\'s invitation link registers the invitee, once', async () => {
    const admin = await rig.page();
    const guest = await rig.page();
    try {
      await guest.page.goto(`${rig.url}/`);
      await guest.page.getByRole('button', { name: 'Create one' }).click();
      await guest.page.getByLabel('Username').fill('walkin');
      await guest.page.getByLabel('Email').fill('walkin@example.com');
      await guest.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await guest.page.getByRole('button', { name: 'Create account' }).click();
      await guest.page.getByRole('alert').getByText(/needs an invitation/).waitFor();

      await signIn(admin.page, rig.url, 'admin', ADMIN_PASSWORD);
      await admin.page.getByRole('link', { name: 'Users' }).click();
      await admin.page.getByRole('heading', { level: 2, name: 'Invite someone' }).waitFor();
      await admin.page.getByLabel('Invitation role').selectOption('moderator');
      await admin.page.getByRole('button', { name: 'Create invitation' }).click();
      await admin.page.getByText('Invitation for a moderator', { exact: true }).waitFor();
      const link = await issuedLink(admin.page);
      expect(link).toMatch(/\/#\/register\?invitation=[A-Za-z0-9_-]{43}$/);

      await guest.page.goto(link);
      await guest.page.getByRole('heading', { level: 1, name: 'Create an account' }).waitFor();
      expect(await guest.page.getByLabel('Invitation code').inputValue()).toBe(link.split('invitation=')[1]);
      await guest.page.getByLabel('Username').fill('invitee');
      await guest.page.getByLabel('Email').fill('invitee@example.com');
      await guest.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await guest.page.getByRole('button', { name: 'Create account' }).click();
      await guest.page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      expect(await guest.page.locator('.who').textContent()).toBe('invitee moderator');

      // The link is spent.
      const again = await rig.call('POST', '/auth/register', undefined, { username: 'second', email: 'second@example.com', password: PASSWORD, invitation_token: link.split('invitation=')[1] });
      expect(again.status).toBe(400);
      expect(admin.problems).toEqual([]);
      expect(guest.problems).toEqual([]);
    } finally {
      await admin.context.close();
      await guest.context.close();
    }
  });

  test('an admin issues a password reset from the Users page; its link sets a new password and ends the owner\'s sessions', async () => {
    const owner = await invited('forgetful');
    const admin = await rig.page();
    const guest = await rig.page();
    try {
      await signIn(admin.page, rig.url, 'admin', ADMIN_PASSWORD);
      await admin.page.getByRole('link', { name: 'Users' }).click();
      const row = admin.page.locator(`tr[data-user-id="${owner.id}"]`);
      await row.getByRole('button', { name: 'Reset password' }).click();
      await admin.page.getByText('Password reset for forgetful', { exact: true }).waitFor();
      const link = await issuedLink(admin.page);
      expect(link).toMatch(/\/#\/reset\?token=[A-Za-z0-9_-]{43}$/);
      // Issuing changes nothing yet.
      expect((await rig.call('GET', '/auth/me', owner.token)).status).toBe(200);

      await guest.page.goto(link);
      await guest.page.getByRole('heading', { level: 1, name: 'Set a new password' }).waitFor();
      await guest.page.getByLabel('New password').fill('Password123!');
      await guest.page.getByRole('button', { name: 'Set password' }).click();
      await guest.page.getByRole('alert').getByText(/too common/).waitFor();
      await guest.page.getByLabel('New password').fill('Fresh-Start-2026');
      await guest.page.getByRole('button', { name: 'Set password' }).click();
      await guest.page.getByRole('status').getByText(/Your password is set and 1 session was ended/).waitFor();
      expect((await rig.call('GET', '/auth/me', owner.token)).status).toBe(401);
      await guest.page.getByLabel('Username or email').fill('forgetful');
      await guest.page.getByLabel('Password').fill('Fresh-Start-2026');
      await guest.page.getByRole('button', { name: 'Sign in' }).click();
      await guest.page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      expect(admin.problems).toEqual([]);
      expect(guest.problems).toEqual([]);
    } finally {
      await admin.context.close();
      await guest.context.close();
    }
  });

  test('the Users page lists the open invitations and revokes one: its link then registers nobody', async () => {
    const { page, problems, context } = await rig.page();
    try {
      await signIn(page, rig.url, 'admin', ADMIN_PASSWORD);
      await page.getByRole('link', { name: 'Users' }).click();
      await page.getByLabel('Invitation role').selectOption('user');
      await page.getByRole('button', { name: 'Create invitation' }).click();
      await page.getByText('Invitation for a user', { exact: true }).waitFor();
      const token = (await issuedLink(page)).split('invitation=')[1]!;
      const row = page.locator(`tr[data-invitation-id="${createHash('sha256').update(token).digest('hex')}"]`);
      await row.waitFor();
      expect(await row.locator('td').first().textContent()).toBe('you');

      await row.getByRole('button', { name: 'Revoke' }).click();
      await row.getByRole('button', { name: 'Yes, revoke this user invitation' }).click();
      await page.getByText('The invitation for a user is revoked: its link registers nobody now').waitFor();
      await row.waitFor({ state: 'detached' });
      const register = await rig.call('POST', '/auth/register', undefined, { username: 'too-late', email: 'too-late@example.com', password: PASSWORD, invitation_token: token });
      expect(register.status).toBe(400);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test('a user changes their password on their account page: the current one is required, other sessions end, this one stays', async () => {
    const me = await invited('changer');
    const { page, problems, context } = await rig.page();
    try {
      await signIn(page, rig.url, 'changer', PASSWORD);
      // A user has no Users link; their name leads to their account.
      expect(await page.locator('nav.nav a').allTextContents()).toEqual(['Overview', 'Tasks', 'Dead letter', 'Schedules', 'New task']);
      await page.getByRole('link', { name: /changer/ }).click();
      await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();

      await page.getByLabel('Current password').fill('Not-The-Password-1');
      await page.getByLabel('New password', { exact: true }).fill('Changed-Pass-2026');
      await page.getByLabel('New password again').fill('Changed-Pass-2026');
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByRole('alert').getByText(/current_password: is not this account's password/).waitFor();

      await page.getByLabel('Current password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByText('Password changed; 1 other session was signed out').waitFor();
      expect((await rig.call('GET', '/auth/me', me.token)).status).toBe(401);
      // Still signed in here.
      await page.getByRole('link', { name: 'Tasks' }).click();
      await page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
      expect((await rig.call('POST', '/auth/login', undefined, { username_or_email: 'changer', password: 'Changed-Pass-2026' })).status).toBe(200);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
