import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { systemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Scheduler } from '../../src/worker/maintenance/scheduler.ts';
import { testDatabases } from '../helpers/databases.ts';
import { ADMIN_PASSWORD, PASSWORD, screenshot, signIn, startRig, type DashboardRig } from './dashboard-harness.ts';

// Browser globals, for the functions that run in the page (the project's TypeScript has no DOM library).
declare const document: any;

/**
 * The Schedules page in Chromium, against the real API, a real `conveyor work` process and a real
 * database (both engines): a user creates, pauses, resumes, runs and deletes a recurring schedule.
 * The screenshot for the README is taken on the SQLite run.
 */
describe.each(testDatabases)('dashboard schedules [$kind]', ({ kind, create }) => {
  let rig: DashboardRig;
  let carol: { id: string; token: string };
  let page: Page;
  let problems: string[];
  const shots = kind === 'sqlite';

  beforeAll(async () => {
    // A schedule firing every second shows a run within the test's time; the role `user`'s default
    // minimum interval (a minute, quotas.user_schedule_min_interval_ms) is the quota tests' business.
    rig = await startRig(create(), { quotas: { user: { scheduleMinIntervalMs: 0 } } });
    carol = await rig.account('carol');
    ({ page, problems } = await rig.page());
  });
  afterAll(async () => rig?.close());

  const row = (name: string) => page.locator('tbody tr', { has: page.locator('th', { hasText: name }) });
  const field = (label: string) => page.getByLabel(label, { exact: true });
  const schedules = async () => (await rig.call('GET', '/schedules', carol.token)).body.data as any[];

  test('a schedule made in the form is refused with the API\'s message beside the field, then created and listed with its next run', async () => {
    await signIn(page, rig.url, 'carol', PASSWORD);
    expect(await page.locator('nav.nav a').allTextContents()).toEqual(['Overview', 'Tasks', 'Dead letter', 'Schedules', 'New task']);
    await page.getByRole('link', { name: 'Schedules' }).click();
    await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    await page.getByText('No schedules yet.').waitFor();

    // The type picker comes from GET /tasks/types; the payload starts as the type's first example.
    await expect.poll(() => field('Task type').locator('option').allTextContents()).toContain('delay_task');
    await field('Task type').selectOption('delay_task');
    const delayType = (await rig.call('GET', '/tasks/types', carol.token)).body.data.find((t: any) => t.task_type === 'delay_task');
    await expect.poll(async () => JSON.parse(await field('Payload (JSON)').inputValue())).toEqual(delayType.examples[0]);
    expect(await field('Time zone').inputValue()).toBe('UTC');

    await field('Name').fill('nightly-report');
    await field('Cron').fill('every day at 3');
    await field('Payload (JSON)').fill('{ "delay_ms": 0 }');
    await field('Priority').selectOption('high');
    await page.getByRole('button', { name: 'Create schedule' }).click();

    // The API's own words, beside the cron field, which gets the focus; nothing typed is lost.
    const refused = await rig.call('POST', '/schedules', carol.token, { name: 'nightly-report', cron: 'every day at 3', task_type: 'delay_task', payload: { delay_ms: 0 } });
    expect(refused.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'cron' });
    await expect.poll(() => page.locator('#sch-cron-error').textContent()).toBe(refused.body.error.message);
    expect(await field('Cron').getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('sch-cron');
    expect(await field('Name').inputValue()).toBe('nightly-report');
    expect(await field('Cron').inputValue()).toBe('every day at 3');
    expect(JSON.parse(await field('Payload (JSON)').inputValue())).toEqual({ delay_ms: 0 });
    expect(await field('Priority').inputValue()).toBe('high');
    expect(await schedules()).toEqual([]);

    await field('Cron').fill('0 3 * * *');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await row('nightly-report').waitFor();
    const [made] = await schedules();
    expect(made).toMatchObject({ name: 'nightly-report', cron: '0 3 * * *', timezone: 'UTC', task_type: 'delay_task', payload: { delay_ms: 0 }, priority: 'high', enabled: true });
    expect(made.next_run_at).toMatch(/T03:00:00(\.000)?Z$/);
    await expect.poll(() => row('nightly-report').locator('td[data-label="Next run"] time').getAttribute('datetime')).toBe(made.next_run_at);
    expect(await row('nightly-report').locator('td[data-label="Next run"]').textContent()).toMatch(/^in .*03:00:00/);
    expect(await row('nightly-report').locator('td[data-label="When"]').textContent()).toBe('0 3 * * * UTC');
    expect(await row('nightly-report').locator('td[data-label="Last run"]').textContent()).toBe('never');
    expect(await row('nightly-report').locator('td[data-label="State"]').textContent()).toBe('active');
    // Ready for the next one: the name is cleared, the error gone.
    expect(await field('Name').inputValue()).toBe('');
    expect(await page.locator('#sch-cron-error').count()).toBe(0);
    if (shots) await screenshot(page, 'schedules');

    // A name already taken (409) is shown beside the name.
    await field('Name').fill('nightly-report');
    await field('Cron').fill('@hourly');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    const taken = await rig.call('POST', '/schedules', carol.token, { name: 'nightly-report', cron: '@hourly', task_type: 'delay_task', payload: { delay_ms: 0 } });
    expect(taken).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT', field: 'name' } } });
    await expect.poll(() => page.locator('#sch-name-error').textContent()).toBe(taken.body.error.message);
    expect(await field('Name').getAttribute('aria-invalid')).toBe('true');
    expect(await schedules()).toHaveLength(1);
    expect(problems).toEqual([]);
  });

  test('Pause, Resume, Run now and Delete act on the schedule', async () => {
    const [schedule] = await schedules();
    const nightly = row('nightly-report');
    const nextRun = nightly.locator('td[data-label="Next run"]');

    await nightly.getByRole('button', { name: 'Pause' }).click();
    await nightly.getByText('paused', { exact: true }).waitFor();
    await expect.poll(() => nextRun.textContent()).toBe('—');
    expect((await rig.call('GET', `/schedules/${schedule.id}`, carol.token)).body.data).toMatchObject({ enabled: false, next_run_at: null, upcoming: [] });

    await nightly.getByRole('button', { name: 'Resume' }).click();
    await nightly.getByText('active', { exact: true }).waitFor();
    const resumed = (await rig.call('GET', `/schedules/${schedule.id}`, carol.token)).body.data;
    expect(resumed.enabled).toBe(true);
    await expect.poll(() => nextRun.locator('time').getAttribute('datetime')).toBe(resumed.next_run_at);

    // Run now makes one task from the template at once; the notification links to it.
    await nightly.getByRole('button', { name: 'Run now' }).click();
    const toast = page.locator('.toast', { hasText: 'from nightly-report' });
    await toast.waitFor();
    const tasks = (await rig.call('GET', '/tasks', carol.token)).body.data as any[];
    const made = tasks.filter((t) => t.metadata?.schedule === 'nightly-report');
    expect(made).toHaveLength(1);
    const detail = (await rig.call('GET', `/tasks/${made[0].id}`, carol.token)).body.data;
    expect(detail).toMatchObject({ task_type: 'delay_task', priority: 'high', payload: { delay_ms: 0 } });
    expect(await toast.getByRole('link').getAttribute('href')).toBe(`#/tasks/${made[0].id}`);
    await toast.getByRole('link').click();
    await page.locator('.id-line', { hasText: made[0].id }).waitFor();
    // The task's page names the schedule that made it, linking back to the schedules.
    expect(await page.locator('dl.details a', { hasText: 'nightly-report' }).getAttribute('href')).toBe('#/schedules');
    await page.goBack();
    await nightly.waitFor();

    // Delete asks once more, focus on the harmless choice; the task it made stays.
    await nightly.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Keep');
    await nightly.getByRole('button', { name: 'Yes, delete nightly-report' }).click();
    await page.getByText('No schedules yet.').waitFor();
    expect(await nightly.count()).toBe(0);
    expect((await rig.call('GET', `/schedules/${schedule.id}`, carol.token)).status).toBe(404);
    expect((await rig.call('GET', `/tasks/${made[0].id}`, carol.token)).status).toBe(200);
    expect(problems).toEqual([]);
  });

  test('when a schedule fires, the page shows its last run, linking to the task it made, without a reload', async () => {
    // The notifications sit over the form's button; dismissed as a user would.
    const toasts = page.locator('.toast-close');
    while ((await toasts.count()) > 0) await toasts.first().click();
    await field('Name').fill('every-second');
    await field('Cron').fill('* * * * * *');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await row('every-second').waitFor();
    const [schedule] = await schedules();

    // Fired as the worker's scheduler does, without waiting for its next round.
    const scheduler = new Scheduler({ engine: rig.engine, clock: systemClock, logger: silentLogger });
    await expect.poll(async () => {
      await scheduler.runOnce();
      return (await rig.call('GET', `/schedules/${schedule.id}`, carol.token)).body.data.last_task_id;
    }, { interval: 250, timeout: 10_000 }).toMatch(/^[0-9a-f-]{36}$/);

    const link = row('every-second').locator('td[data-label="Last run"] a');
    await link.waitFor();
    const id = /^#\/tasks\/([0-9a-f-]{36})$/.exec((await link.getAttribute('href')) ?? '')?.[1];
    const task = (await rig.call('GET', `/tasks/${id}`, carol.token)).body.data;
    expect(task.metadata).toMatchObject({ schedule: 'every-second' });
    // It would go on firing every second.
    expect((await rig.call('DELETE', `/schedules/${schedule.id}`, carol.token)).status).toBe(200);
    expect(problems).toEqual([]);
  });

  test('on a phone each schedule is a card, with no sideways scrolling', async () => {
    const made = await rig.call('POST', '/schedules', carol.token, { name: 'weekly-digest', cron: '@weekly', timezone: 'Europe/Berlin', task_type: 'delay_task', payload: { delay_ms: 0 } });
    expect(made.status).toBe(201);
    const phone = await rig.page({ width: 390, height: 844 });
    try {
      // An admin sees everyone's schedules, and the longest navigation still fits.
      await signIn(phone.page, rig.url, 'admin', ADMIN_PASSWORD);
      expect(await phone.page.locator('nav.nav').evaluate((nav) => nav.scrollWidth <= nav.clientWidth)).toBe(true);
      await phone.page.getByRole('link', { name: 'Schedules' }).click();
      const card = phone.page.locator(`tr[data-schedule-id="${made.body.data.id}"]`);
      await card.waitFor();
      const width = () => phone.page.evaluate(() => document.documentElement.scrollWidth);
      expect(await width()).toBeLessThanOrEqual(390);
      expect(await card.evaluate((tr) => getComputedStyle(tr).display)).toBe('grid');
      await card.getByRole('button', { name: 'Delete' }).click();
      expect(await width()).toBeLessThanOrEqual(390);
      await card.getByRole('button', { name: 'Keep' }).click();
      expect(phone.problems).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });
});

declare function getComputedStyle(element: unknown): { display: string };
