import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { ADMIN_PASSWORD, PASSWORD, screenshot, signIn, startRig, type DashboardRig } from './dashboard-harness.ts';

// Browser globals, for the functions that run in the page (the project's TypeScript has no DOM library).
declare const document: any;

/**
 * The admins' Users page and the tasks page's id search, in Chromium against the real API and a
 * real database (both engines). The screenshot for the README is taken on the SQLite run.
 */
describe.each(testDatabases)('dashboard users and id search [$kind]', ({ kind, create }) => {
  let rig: DashboardRig;
  let adminToken: string;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  const shots = kind === 'sqlite';

  beforeAll(async () => {
    rig = await startRig(create());
    adminToken = await rig.login('admin', ADMIN_PASSWORD);
    alice = await rig.account('alice');
    bob = await rig.account('bob');
  });
  afterAll(async () => rig?.close());

  const navLinks = (page: Page) => page.locator('nav.nav a').allTextContents();
  const row = (page: Page, id: string) => page.locator(`tr[data-user-id="${id}"]`);

  test('an admin finds Users in the navigation, changes a role after confirming, and deactivates and reactivates an account', async () => {
    const { page, problems, context } = await rig.page();
    try {
      await signIn(page, rig.url, 'admin', ADMIN_PASSWORD);
      expect(await navLinks(page)).toEqual(['Overview', 'Tasks', 'Dead letter', 'Schedules', 'New task', 'Users']);
      await page.getByRole('link', { name: 'Users' }).click();
      await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
      await row(page, bob.id).waitFor();
      expect(await page.locator('tbody tr').count()).toBe(3);
      await page.getByText('Showing 1–3 of 3').waitFor();
      // Moving to the page focuses its title.
      await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');

      // The admin's own row cannot demote or deactivate them.
      expect(await page.getByLabel('Role of admin').isDisabled()).toBe(true);
      expect(await row(page, (await rig.call('GET', '/auth/me', adminToken)).body.data.id).getByRole('button').count()).toBe(0);

      // Picking a role asks first; focus goes to Keep, and keeping changes nothing.
      const bobRole = page.getByLabel('Role of bob');
      expect(await bobRole.inputValue()).toBe('user');
      await bobRole.selectOption('moderator');
      await row(page, bob.id).getByText('Make bob a moderator?').waitFor();
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Keep');
      await page.keyboard.press('Enter');
      await expect.poll(() => bobRole.inputValue()).toBe('user');
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe(`role-${bob.id}`);
      expect((await rig.call('GET', '/workers', bob.token)).status).toBe(403);

      await bobRole.selectOption('moderator');
      await row(page, bob.id).getByRole('button', { name: 'Change role' }).click();
      await page.locator('.toast').getByText('bob is now a moderator').waitFor();
      await expect.poll(() => bobRole.inputValue()).toBe('moderator');
      const listed = (await rig.call('GET', '/users', adminToken)).body.data.find((u: any) => u.id === bob.id);
      expect(listed).toMatchObject({ username: 'bob', role: 'moderator', is_active: true });
      // bob's next request already has the new role.
      expect((await rig.call('GET', '/workers', bob.token)).status).toBe(200);

      // Deactivating asks too, then signs alice out everywhere.
      const aliceRow = row(page, alice.id);
      await aliceRow.getByRole('button', { name: 'Deactivate' }).click();
      await aliceRow.getByRole('button', { name: 'Yes, deactivate alice' }).click();
      await page.locator('.toast').getByText(/alice is deactivated and was signed out of 1 session/).waitFor();
      await aliceRow.getByText('deactivated', { exact: true }).waitFor();
      // Focus stays on the row's action, now the way back.
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Activate');
      expect((await rig.call('GET', '/auth/me', alice.token)).status).toBe(401);
      expect((await rig.call('POST', '/auth/login', undefined, { username_or_email: 'alice', password: PASSWORD })).status).toBe(401);
      if (shots) await screenshot(page, 'users');

      await aliceRow.getByRole('button', { name: 'Activate' }).click();
      await aliceRow.getByRole('button', { name: 'Yes, activate alice' }).click();
      await page.locator('.toast').getByText('alice can sign in again').waitFor();
      await aliceRow.getByText('active', { exact: true }).waitFor();
      alice.token = await rig.login('alice', PASSWORD);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test('a plain user has no Users link, and the page and the API both refuse them', async () => {
    const { page, problems, context } = await rig.page();
    try {
      await signIn(page, rig.url, 'alice', PASSWORD);
      expect(await navLinks(page)).toEqual(['Overview', 'Tasks', 'Dead letter', 'Schedules', 'New task']);
      await page.goto(`${rig.url}/#/users`);
      await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
      await page.getByRole('alert').getByText('Admins only').waitFor();
      expect(await page.locator('tbody tr').count()).toBe(0);

      const list = await rig.call('GET', '/users', alice.token);
      expect(list.status).toBe(403);
      expect(list.body.error.code).toBe('FORBIDDEN');
      const patch = await rig.call('PATCH', `/api/v1/users/${alice.id}`, alice.token, { role: 'admin' });
      expect(patch.status).toBe(403);
      expect((await rig.call('GET', '/auth/me', alice.token)).body.data.role).toBe('user');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test('the tasks search finds a task by the start of its id through the API, beyond the loaded page', async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const batch = await rig.call('POST', '/tasks/batch', alice.token, { tasks: Array.from({ length: 51 }, () => ({ task_type: 'delay_task', payload: { delay_ms: 0 }, scheduled_at: later })) });
    expect(batch.status).toBe(201);
    // The oldest of alice's tasks is the 51st, past the first page of 50.
    const all = (await rig.call('GET', '/tasks?limit=100', alice.token)).body.data;
    expect(all).toHaveLength(51);
    const oldest = all.at(-1);
    const prefix: string = oldest.id.slice(0, 30);

    const { page, problems, context } = await rig.page();
    try {
      await signIn(page, rig.url, 'alice', PASSWORD);
      await page.getByRole('link', { name: 'Tasks', exact: true }).click();
      await expect.poll(() => page.locator('tbody tr').count()).toBe(50);
      expect(await page.locator(`tr[data-task-id="${oldest.id}"]`).count()).toBe(0);

      // Not hex: refused in place, without asking the API.
      await page.getByLabel('Task ID').fill('zz-top');
      await page.getByRole('button', { name: 'Find' }).click();
      await page.getByText('Type the start of a task id').waitFor();
      expect(await page.getByLabel('Task ID').getAttribute('aria-invalid')).toBe('true');
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('f-id');
      expect(page.url()).not.toContain('q=');

      const asked = page.waitForRequest((request) => request.url().includes(`id_prefix=${prefix.toLowerCase()}`));
      await page.getByLabel('Task ID').fill(prefix.toUpperCase());
      await page.getByRole('button', { name: 'Find' }).click();
      await asked;
      await page.locator(`tr[data-task-id="${oldest.id}"]`).waitFor();
      expect(await page.locator('tbody tr').count()).toBe(1);
      await page.getByText(`Ids starting “${prefix.toLowerCase()}” · Showing 1 of 1`).waitFor();
      expect(await page.getByLabel('Task ID').getAttribute('aria-invalid')).toBeNull();

      // The short id the table shows finds all 51, paged by the API like any list.
      await page.getByLabel('Task ID').fill(oldest.id.slice(0, 8));
      await page.getByRole('button', { name: 'Find' }).click();
      await page.getByText(/Showing 50 of 51/).waitFor();
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await page.getByText('Showing 50 of 51 · newest first').waitFor();
      expect(await page.getByLabel('Task ID').inputValue()).toBe('');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test('the Users page works on a phone-sized screen without sideways scrolling', async () => {
    const phone = await rig.page({ width: 390, height: 844 });
    try {
      await signIn(phone.page, rig.url, 'admin', ADMIN_PASSWORD);
      // The admin's longer navigation still fits.
      expect(await phone.page.locator('nav.nav').evaluate((nav) => nav.scrollWidth <= nav.clientWidth)).toBe(true);
      await phone.page.getByRole('link', { name: 'Users' }).click();
      await row(phone.page, bob.id).waitFor();
      expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      // Each account is a card: name, then its role control, status and action, every cell labelled.
      const card = row(phone.page, alice.id);
      expect(await card.evaluate((tr) => getComputedStyle(tr).display)).toBe('grid');
      await card.getByRole('button', { name: 'Deactivate' }).click();
      expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await card.getByRole('button', { name: 'Keep' }).click();
      expect(phone.problems).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });
});

declare function getComputedStyle(element: unknown): { display: string };
