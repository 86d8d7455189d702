import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/store/engine.ts';
import { cliSandbox, openSandboxEngine, runCli, runCliJson, type CliSandbox } from './cli-helpers.ts';

/** `conveyor schedules ...` as real processes on a temporary SQLite database. */
let box: CliSandbox;
let engine: Engine;
const payload = JSON.stringify({ delay_ms: 10 });

beforeAll(async () => {
  box = cliSandbox();
  engine = await openSandboxEngine(box);
});
afterAll(async () => {
  await engine?.close();
  box?.remove();
});

describe('conveyor schedules', () => {
  it('adds a schedule, changes it by adding again, and lists it', async () => {
    const empty = await runCli(['schedules'], { env: box.env });
    expect(empty.stdout).toContain('No schedules.');
    const added = await runCli(['schedules', 'add', 'nightly-report', '0 3 * * *', 'delay_task', '--payload', payload, '--timezone', 'Europe/Berlin', '--priority', 'low'], { env: box.env });
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^Created schedule nightly-report \(\S+\): delay_task at "0 3 \* \* \*" Europe\/Berlin\.$/m);
    const [stored] = await engine.scheduleList({});
    expect(stored).toMatchObject({ name: 'nightly-report', timezone: 'Europe/Berlin', createdBy: null, template: { payload: JSON.parse(payload), priority: 'low' } });

    const changed = await runCliJson(['schedules', 'add', 'nightly-report', '0 3 * * *', 'delay_task', '--payload', payload, '--timezone', 'Europe/Berlin', '--json'], { env: box.env });
    expect(changed.data).toMatchObject({ created: false, schedule: { id: stored!.id, priority: 'normal', next_run_at: stored!.nextRunAt!.toISOString() } });

    const list = await runCli(['schedules', 'list'], { env: box.env });
    expect(list.stdout).toMatch(/nightly-report\s+delay_task\s+0 3 \* \* \*\s+Europe\/Berlin\s+enabled/);
  });

  it('refuses a bad cron, time zone or payload with exit 2, naming what is wrong', async () => {
    const [cron, zone, badPayload] = await Promise.all([
      runCli(['schedules', 'add', 'x', '99 * * * *', 'delay_task', '--payload', payload], { env: box.env }),
      runCli(['schedules', 'add', 'x', '@daily', 'delay_task', '--payload', payload, '--timezone', 'Moon/Base'], { env: box.env }),
      runCli(['schedules', 'add', 'x', '@daily', 'delay_task', '--payload', '{"delay_ms":-1}'], { env: box.env }),
    ]);
    expect([cron.code, zone.code, badPayload.code]).toEqual([2, 2, 2]);
    expect(cron.stderr).toMatch(/cron.*minute: 99/);
    expect(zone.stderr).toMatch(/timezone.*IANA/);
    expect(badPayload.stderr).toMatch(/payload\.delay_ms/);
    expect((await engine.scheduleList({})).map((s) => s.name)).not.toContain('x');
  });

  it('pauses, resumes, runs now and removes by name', async () => {
    await runCli(['schedules', 'add', 'hourly', '@hourly', 'delay_task', '--payload', payload], { env: box.env });
    expect((await runCli(['schedules', 'pause', 'hourly'], { env: box.env })).stdout).toContain('Paused hourly.');
    expect((await engine.scheduleList({})).find((s) => s.name === 'hourly')).toMatchObject({ enabled: false, nextRunAt: null });
    const resumed = await runCli(['schedules', 'resume', 'hourly'], { env: box.env });
    expect(resumed.stdout).toMatch(/^Resumed hourly; next run \S+:00:00\.000Z\.$/m);

    const run = await runCliJson(['schedules', 'run', 'hourly', '--json'], { env: box.env });
    expect(run.data).toMatchObject({ created: true, task: { task_type: 'delay_task', status: 'pending', metadata: { schedule: 'hourly' } } });
    expect(await engine.taskGet({ id: run.data.task.id })).not.toBeNull();

    // Removing asks first; with no terminal to ask on, only --yes removes.
    const unconfirmed = await runCli(['schedules', 'remove', 'hourly'], { env: box.env });
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('schedule hourly (delay_task at "@hourly" UTC) would be deleted: not deleted without confirmation; add --yes');
    expect((await runCliJson(['schedules'], { env: box.env })).data.items.map((s: { name: string }) => s.name)).toContain('hourly');
    expect((await runCli(['schedules', 'remove', 'hourly', '--yes'], { env: box.env })).stdout).toContain('Removed schedule hourly.');
    const gone = await runCli(['schedules', 'pause', 'hourly'], { env: box.env });
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain('no schedule is named hourly');
  });
});
