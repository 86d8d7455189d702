import pino from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { systemClock } from '../../src/core/clock.ts';
import { newTask } from '../../src/core/new-task.ts';
import type { Engine } from '../../src/store/engine.ts';
import { createEngine } from '../helpers/create-engine.ts';
import { testDatabases, useTemplate, type TestDatabase } from '../helpers/databases.ts';
import { ADMIN_PASSWORD, startHttpServer, type HttpServer } from '../helpers/http-harness.ts';
import { signIn } from './dashboard-harness.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HOUR = 3_600_000;

/**
 * History at scale, in the browser (issue 16): the overview's charts of the last 24 hours come from
 * the rollups in the database, so an API that restarts shows them at once; and a list with more than
 * 10,000 matches says "10,000+" rather than counting them all.
 */
describe.each(testDatabases)('dashboard history [$kind]', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  let browser: Browser;
  let server: HttpServer | null = null;

  beforeAll(async () => {
    db = create();
    await useTemplate(db);
    engine = createEngine(db.url);
    await engine.migrate();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  });
  afterAll(async () => {
    await browser?.close().catch(() => {});
    await server?.app.close();
    await engine?.close();
    await db?.drop();
  });

  const start = () => startHttpServer({ engine, clock: systemClock, logger: pino({ level: 'silent' }) });

  /** `count` tasks of `taskType` that finished `hoursAgo` hours ago, after 1 s in the queue and 3 s running. */
  async function finishedAgo(hoursAgo: number, count: number, outcome: 'completed' | 'failed') {
    const at = Date.now() - hoursAgo * HOUR;
    const tasks = Array.from({ length: count }, () => newTask({ taskType: 'history_chart', payload: {}, maxAttempts: 1 }, new Date(at)));
    await engine.taskInsertMany({ tasks });
    const claimed = await engine.taskClaim({ workerId: 'w', taskTypes: ['history_chart'], limit: count, now: new Date(at + 1000), leaseMs: 60_000 });
    for (const task of claimed) {
      const lease = { id: task.id, attempt: task.currentAttempt, workerId: 'w' };
      if (outcome === 'completed') await engine.taskComplete({ lease, output: null, now: new Date(at + 4000) });
      else await engine.taskFail({ lease, error: 'boom', permanent: true, now: new Date(at + 4000) });
    }
  }

  test('charts the last 24 hours from the stored rollups, the same after the API restarts', async () => {
    await finishedAgo(20, 5, 'completed');
    await finishedAgo(6, 3, 'failed');
    await finishedAgo(2, 4, 'completed');
    // The workers' leader rolls minutes up an hour at a time; here the test is the leader.
    while ((await engine.taskRollup({ now: new Date() })).minutes > 0);

    server = await start();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', locale: 'en-GB' });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
    const charts = page.getByTestId('history-charts');
    await expect.poll(() => charts.getAttribute('data-range')).toBe('24h');
    await expect.poll(() => charts.getAttribute('data-completed')).toBe('9');
    expect(await charts.getAttribute('data-failed')).toBe('3');
    await page.getByRole('img', { name: 'Tasks finished over the last 24 hours: 9 completed, 3 failed' }).waitFor();
    expect(await page.locator('.bar-completed').count()).toBe(96);

    // A restart: this server goes, another starts on the same database (on another port here, so
    // the browser signs in again); its overview charts the same at once.
    await server.app.close();
    server = await start();
    await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
    await page.getByRole('img', { name: 'Tasks finished over the last 24 hours: 9 completed, 3 failed' }).waitFor();
    await page.getByRole('button', { name: '1 hour' }).click();
    await expect.poll(() => page.getByTestId('history-charts').getAttribute('data-range')).toBe('1h');
    // data-range is the loaded history's: these counts are the last hour's.
    expect(await page.getByTestId('history-charts').getAttribute('data-completed')).toBe('0');
    await page.getByRole('button', { name: '7 days' }).click();
    await page.getByRole('img', { name: 'Tasks finished over the last 7 days: 9 completed, 3 failed' }).waitFor();
    await context.close();
  });

  test('a list of more than 10,000 tasks shows "10,000+"', async () => {
    server ??= await start();
    const later = new Date(Date.now() + 24 * HOUR);
    for (let batch = 0; batch < 11; batch++) {
      await engine.taskInsertMany({ tasks: Array.from({ length: 1000 }, () => newTask({ taskType: 'history_backlog', payload: {}, scheduledAt: later }, new Date())) });
    }
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', locale: 'en-GB' });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
    await page.goto(`${server.url}/#/tasks?status=scheduled`);
    await page.getByText('Showing 50 of 10,000+').waitFor();
    await context.close();
  });
});
