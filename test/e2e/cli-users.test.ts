import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { systemClock } from '../../src/core/clock.ts';
import type { Engine } from '../../src/store/engine.ts';
import { PASSWORD, startHttpServer } from '../helpers/http-harness.ts';
import { cliSandbox, openSandboxEngine, runCli, runCliJson, runCliOnTerminal, type CliSandbox } from './cli-helpers.ts';

/** `conveyor users` as real processes: made from flags in a script, or by answering questions on a terminal. */
let box: CliSandbox;
let engine: Engine;

beforeAll(async () => {
  box = cliSandbox();
  engine = await openSandboxEngine(box);
});
afterAll(async () => {
  await engine?.close();
  box?.remove();
});

describe('conveyor users', () => {
  it('create --admin with no terminal to ask on names the flags to pass; with them it makes the admin and prints its password once', async () => {
    const bare = await runCli(['users', 'create', '--admin'], { env: box.env });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toBe('conveyor: users create needs --username <name> and --email <address> when there is no terminal to ask on (e.g. conveyor users create --admin --username ada --email ada@example.com)\n');

    const made = await runCli(['users', 'create', '--admin', '--username', 'ada', '--email', 'ada@example.com'], { env: box.env });
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^Created admin ada <ada@example\.com> \(id \S+\)\.\nPassword \(shown once\): \S{20,}\n$/);
    expect((await engine.userFind({ login: 'ada' }))?.role).toBe('admin');

    const taken = await runCli(['users', 'create', '-u', 'ada', '-e', 'other@example.com'], { env: box.env });
    expect(taken.code).toBe(4);
    expect(taken.stderr).toContain('username or email is unavailable');
    const invalid = await runCli(['users', 'create', '-u', 'x', '-e', 'x@example.com'], { env: box.env });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('username');
  });

  it('create on a terminal asks for the username, email and password, and does not echo the password', async () => {
    const password = 'Quiet-Horse-Battery-42';
    const session = await runCliOnTerminal(['users', 'create', '--admin'], {
      env: box.env,
      answers: [
        ['Username', 'grace'],
        ['Email: ', 'grace@example.com'],
        ['Password (empty: make one up): ', password],
        ['Password again: ', password],
      ],
    });
    expect(session.code, session.screen).toBe(0);
    expect(session.screen).toContain('Username (3-50 letters, digits, _ or -): grace\n');
    expect(session.screen).toContain('Email: grace@example.com\n');
    expect(session.screen).toMatch(/Created admin grace <grace@example\.com>/);
    expect(session.screen).not.toContain(password);
    expect(session.screen).not.toContain('shown once');
    expect((await engine.userFind({ login: 'grace@example.com' }))?.role).toBe('admin');
  });

  it('list prints a table, and --json the accounts as GET /users shows them (never a password hash)', async () => {
    const [table, json, bare] = await Promise.all([
      runCli(['users', 'list'], { env: box.env }),
      runCliJson(['users', 'list'], { env: box.env }),
      runCli(['users'], { env: box.env }),
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^USERNAME\s+EMAIL\s+ROLE\s+STATE\s+CREATED\s+LAST LOGIN\s+ID$/m);
    expect(table.stdout).toMatch(/^ada\s+ada@example\.com\s+admin\s+active\s+.+\s+never\s+\S+$/m);
    expect(table.stdout).toContain('2 accounts.');
    // `users` alone lists, as the other groups do.
    expect(bare.code).toBe(0);
    expect(bare.stdout).toMatch(/^USERNAME\s+EMAIL/);
    expect(bare.stdout).toContain('2 accounts.');
    expect(json.data.total).toBe(2);
    expect(json.data.next_cursor).toBeNull();
    expect(json.data.items.map((u: { username: string }) => u.username)).toEqual(['ada', 'grace']);
    expect(Object.keys(json.data.items[0]).sort()).toEqual(['created_at', 'email', 'id', 'is_active', 'last_login_at', 'role', 'username']);
  });

  it('invite and reset-password print one-time tokens that the API then accepts, once', async () => {
    const server = await startHttpServer({ engine, clock: systemClock, logger: pino({ level: 'silent' }), overrides: { auth: { registration: 'invite' } } });
    try {
      const invite = await runCliJson(['users', 'invite', '--role', 'moderator', '--expires-in-hours', '2'], { env: box.env });
      expect(invite.data).toMatchObject({ role: 'moderator', dashboard_url: expect.stringMatching(/\/#\/register\?invitation=[A-Za-z0-9_-]{43}$/) });
      const body = { username: 'invited', email: 'invited@example.com', password: PASSWORD, invitation_token: invite.data.invitation_token };
      const registered = await server.call('POST', '/auth/register', { body });
      expect(registered.status, registered.text).toBe(201);
      expect(registered.body.data.role).toBe('moderator');
      expect((await server.call('POST', '/auth/register', { body: { ...body, username: 'invited2', email: 'invited2@example.com' } })).status).toBe(400);

      const unknown = await runCli(['users', 'reset-password', 'nobody'], { env: box.env });
      expect(unknown.code).toBe(3);
      expect(unknown.stderr).toContain('no account named nobody');
      const reset = await runCli(['users', 'reset-password', 'invited'], { env: box.env });
      expect(reset.code, reset.stderr).toBe(0);
      const token = /token\s+([A-Za-z0-9_-]{43})$/m.exec(reset.stdout)![1]!;
      expect(reset.stdout).toContain(`/#/reset?token=${token}`);
      const done = await server.call('POST', '/auth/password-reset', { body: { token, new_password: 'Reset-By-Cli-77' } });
      expect(done.status, done.text).toBe(200);
      expect(await server.login('invited', 'Reset-By-Cli-77')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await server.call('POST', '/auth/password-reset', { body: { token, new_password: 'Reset-Again-88' } })).status).toBe(400);
    } finally {
      await server.app.close();
    }
  });

  it('invitations lists the open ones without their tokens; revoke-invitation takes a short id and the token then registers nobody', async () => {
    const server = await startHttpServer({ engine, clock: systemClock, logger: pino({ level: 'silent' }), overrides: { auth: { registration: 'invite' } } });
    try {
      const kept = (await runCliJson(['users', 'invite'], { env: box.env })).data as { id: string; invitation_token: string };
      const revoked = (await runCliJson(['users', 'invite', '--role', 'admin'], { env: box.env })).data as { id: string; invitation_token: string };
      const listed = await runCli(['users', 'invitations'], { env: box.env });
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`^${revoked.id.slice(0, 12)}\\s+admin\\s+\\(command line\\)`, 'm'));
      expect(listed.stdout).toContain(kept.id.slice(0, 12));
      expect(listed.stdout).not.toContain(kept.invitation_token);
      const json = await runCliJson(['users', 'invitations', '--json'], { env: box.env });
      expect(json.data.items.map((item: { id: string }) => item.id)).toEqual(expect.arrayContaining([kept.id, revoked.id]));

      const tooShort = await runCli(['users', 'revoke-invitation', 'abc'], { env: box.env });
      expect(tooShort.code).toBe(2);
      expect(tooShort.stderr).toContain('at least 8');
      const done = await runCli(['users', 'revoke-invitation', revoked.id.slice(0, 12)], { env: box.env });
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toContain(`Revoked the invitation ${revoked.id.slice(0, 12)}`);
      const again = await runCli(['users', 'revoke-invitation', revoked.id], { env: box.env });
      expect(again.code).toBe(3);
      expect(again.stderr).toContain('no open invitation');

      const body = (name: string, token: string) => ({ body: { username: name, email: `${name}@example.com`, password: PASSWORD, invitation_token: token } });
      expect((await server.call('POST', '/auth/register', body('would-be-admin', revoked.invitation_token))).status).toBe(400);
      expect((await server.call('POST', '/auth/register', body('kept-invitee', kept.invitation_token))).status).toBe(201);
      expect((await runCliJson(['users', 'invitations', '--json'], { env: box.env })).data.items.map((item: { id: string }) => item.id)).not.toContain(kept.id);
    } finally {
      await server.app.close();
    }
  });
});
