import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { AuthService } from '../../auth/auth-service.ts';
import { systemClock } from '../../core/clock.ts';
import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import { openMigratedEngine } from '../../store/create-engine.ts';
import { USER_ROLES, type Engine, type UserRecord, type UserRole } from '../../store/engine.ts';
import { invitationView } from '../../api/views/invitation-view.ts';
import { userProfile } from '../../api/views/user-view.ts';
import { withEngine } from '../cli-engine.ts';
import { cliAction, CliError, EXIT } from '../cli-error.ts';
import { loadConfig, type Config } from '../config.ts';
import { formatAgo, formatTable, parseIntFlag, printJson, printJsonList, println } from '../output.ts';
import { ask, askSecret, canAsk } from '../prompt.ts';
import { createLogger } from '../logger.ts';
import { apiConfigFrom } from './serve.ts';

interface CreateOptions {
  username?: string;
  email?: string;
  password?: string;
  passwordStdin?: boolean;
  admin?: boolean;
  role?: string;
  json?: boolean;
}

/**
 * `conveyor users [list]|create|set-role|invite|invitations|revoke-invitation|reset-password`: account administration from the shell
 * (the API never grants roles through registration).
 */
export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('Manage accounts: list them, create one (an admin too), change a role, invite (and list or revoke invitations), reset a password');

  users
    .command('list', { isDefault: true })
    .description('Every account, oldest first, with its role and last login (the default)')
    .option('--json', 'print JSON: {items, total, next_cursor}, each item as GET /users shows it')
    .action(
      cliAction(async (options: { json?: boolean }) => {
        // Read-only: like the other listing commands it neither migrates nor creates a database.
        await withEngine(loadConfig(), async (engine) => {
          const accounts: UserRecord[] = [];
          // Page through all of them: the engine lists by offset.
          for (let offset = 0; ; offset += USERS_PAGE) {
            const page = await engine.userList({ limit: USERS_PAGE, offset });
            accounts.push(...page);
            if (page.length < USERS_PAGE) break;
          }
          if (options.json) {
            printJsonList(accounts.map(userProfile));
            return;
          }
          if (accounts.length === 0) {
            println('No accounts yet. Make an admin: conveyor users create --admin --username <name> --email <address>');
            return;
          }
          const now = systemClock.now();
          println(
            formatTable(
              [{ header: 'USERNAME', max: 50 }, { header: 'EMAIL', max: 60 }, { header: 'ROLE' }, { header: 'STATE' }, { header: 'CREATED' }, { header: 'LAST LOGIN' }, { header: 'ID' }],
              accounts.map((u) => [u.username, u.email, u.role, u.isActive ? 'active' : 'deactivated', formatAgo(u.createdAt, now), u.lastLoginAt ? formatAgo(u.lastLoginAt, now) : 'never', u.id]),
            ),
          );
          println();
          println(`${accounts.length} account${accounts.length === 1 ? '' : 's'}.`);
        });
      }),
    );

  users
    .command('create')
    .description('Create an account; on a terminal it asks for what the flags leave out, and makes up a password if none is given')
    .option('-u, --username <name>', '3-50 letters, digits, _ or - (asked for on a terminal)')
    .option('-e, --email <address>', 'the account\'s email (asked for on a terminal)')
    .option('--password <password>', 'the password (visible to other local users in the process list; prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--admin', 'give the admin role')
    .option('--role <role>', `one of ${USER_ROLES.join(', ')} (default user)`)
    .option('--json', 'print JSON: {user, password} (password only when one was made up)')
    .addHelpText(
      'after',
      `
Without a terminal (a script, CI), --username and --email are required; the password comes from
--password-stdin or --password, or is made up and printed once.

Examples:
  conveyor users create --admin                       # asks for the rest
  conveyor users create --admin -u ada -e ada@example.com
  printf '%s' "$PASSWORD" | conveyor users create -u ci -e ci@example.com --password-stdin`,
    )
    .action(
      cliAction(async (options: CreateOptions) => {
        const role = roleOf(options.admin ? 'admin' : (options.role ?? 'user'));
        const interactive = canAsk() && !options.passwordStdin;
        const missing = [...(options.username === undefined ? ['--username <name>'] : []), ...(options.email === undefined ? ['--email <address>'] : [])];
        if (missing.length > 0 && !interactive) {
          throw new CliError(`users create needs ${missing.join(' and ')} when there is no terminal to ask on (e.g. conveyor users create${options.admin ? ' --admin' : ''} --username ada --email ada@example.com)`, EXIT.USAGE);
        }
        const username = options.username ?? (await ask('Username (3-50 letters, digits, _ or -): '));
        const email = options.email ?? (await ask('Email: '));
        let password = options.password ?? (options.passwordStdin ? await readStdin() : undefined);
        if (password === undefined && interactive) {
          const typed = await askSecret('Password (empty: make one up): ');
          if (typed !== '') {
            if ((await askSecret('Password again: ')) !== typed) throw new CliError('the passwords differ; nothing was created', EXIT.USAGE);
            password = typed;
          }
        }
        const generated = password === undefined;
        // 18 random bytes in base64url: 144 bits, and mixed classes so any policy accepts it.
        password ??= `${randomBytes(18).toString('base64url')}-9a`;
        await withAccounts(async (auth) => {
          const user = await auth.createUser({ username, email, password: password!, role });
          if (options.json) {
            printJson({ user: userProfile(user), password: generated ? password : null });
            return;
          }
          println(`Created ${user.role} ${user.username} <${user.email}> (id ${user.id}).`);
          if (generated) println(`Password (shown once): ${password}`);
        });
      }),
    );

  users
    .command('set-role')
    .description('Change an account\'s role')
    .argument('<login>', 'username or email')
    .argument('<role>', USER_ROLES.join(' | '))
    .action(
      cliAction(async (login: string, roleName: string) => {
        const role = roleOf(roleName);
        await withAccounts(async (_auth, engine) => {
          const user = await engine.userFind({ login });
          if (!user) throw new ConveyorError(ERROR_CODES.NOT_FOUND, `no account named ${login} (conveyor users list shows them)`);
          await engine.userUpdate({ id: user.id, changes: { role }, now: systemClock.now() });
          println(`${user.username} is now ${role}.`);
        });
      }),
    );

  registerTokenCommands(users);
}

const USERS_PAGE = 500;
/** How much of an invitation's 64-digit id the table shows; revoke-invitation takes any unique prefix of 8 or more. */
const INVITATION_ID_SHOWN = 12;
const HOUR_MS = 3_600_000;

function registerTokenCommands(users: Command): void {
  users
    .command('invite')
    .description('Issue a one-time invitation to register (for auth.registration=invite); the token is printed once')
    .option('--role <role>', `the role the new account gets: one of ${USER_ROLES.join(', ')} (default user)`)
    .option('--expires-in-hours <n>', 'how long it can be used (default auth.invitation_ttl_ms, 7 days)')
    .option('--json', 'print JSON: {id, invitation_token, role, expires_at, dashboard_url}')
    .action(
      cliAction(async (options: { role?: string; expiresInHours?: string; json?: boolean }) => {
        const role = roleOf(options.role ?? 'user');
        const ttlMs = options.expiresInHours === undefined ? undefined : parseIntFlag(options.expiresInHours, '--expires-in-hours', 1, 24 * 365) * HOUR_MS;
        await withAccounts(async (auth, _engine, config) => {
          const issued = await auth.invite({ by: null, role, ttlMs });
          const url = `${dashboardUrl(config)}/#/register?invitation=${issued.token}`;
          if (options.json) {
            printJson({ id: issued.id, invitation_token: issued.token, role, expires_at: issued.expiresAt.toISOString(), dashboard_url: url });
            return;
          }
          println(`Invitation for a ${role}, usable once until ${issued.expiresAt.toISOString()} (shown once):`);
          println(`  token      ${issued.token}`);
          println(`  dashboard  ${url}`);
          println(`  API        POST /auth/register with "invitation_token": "${issued.token}"`);
          println(`Revoke it with: conveyor users revoke-invitation ${issued.id.slice(0, INVITATION_ID_SHOWN)}`);
        });
      }),
    );

  users
    .command('invitations')
    .description('The open invitations (unused, unexpired), newest first; their tokens are never shown again')
    .option('--json', 'print JSON: {items, total, next_cursor}, each item as GET /users/invitations shows it')
    .action(
      cliAction(async (options: { json?: boolean }) => {
        await withAccounts(async (auth, engine) => {
          const open = await auth.invitations({ by: null });
          if (options.json) {
            printJsonList(open.map(invitationView));
            return;
          }
          if (open.length === 0) {
            println('No open invitations. Issue one: conveyor users invite [--role <role>]');
            return;
          }
          const issuers = new Map<string, string>();
          for (const id of new Set(open.flatMap((invitation) => (invitation.createdBy ? [invitation.createdBy] : [])))) {
            issuers.set(id, (await engine.userGet({ id }))?.username ?? id);
          }
          const now = systemClock.now();
          println(
            formatTable(
              [{ header: 'ID' }, { header: 'ROLE' }, { header: 'ISSUED BY', max: 50 }, { header: 'ISSUED' }, { header: 'EXPIRES' }],
              open.map((invitation) => [
                invitation.tokenHash.slice(0, INVITATION_ID_SHOWN),
                invitation.role ?? 'user',
                invitation.createdBy ? (issuers.get(invitation.createdBy) ?? invitation.createdBy) : '(command line)',
                formatAgo(invitation.createdAt, now),
                formatAgo(invitation.expiresAt, now),
              ]),
            ),
          );
          println();
          println(`${open.length} open invitation${open.length === 1 ? '' : 's'}. Revoke one: conveyor users revoke-invitation <id>`);
        });
      }),
    );

  users
    .command('revoke-invitation')
    .description('Revoke an open invitation, so that its token registers nobody')
    .argument('<id>', `its id, or 8 or more of its first digits (conveyor users invitations shows ${INVITATION_ID_SHOWN})`)
    .option('--json', 'print JSON: {id, revoked}')
    .action(
      cliAction(async (id: string, options: { json?: boolean }) => {
        const prefix = id.trim().toLowerCase();
        if (!/^[0-9a-f]{8,64}$/.test(prefix)) throw new CliError(`<id>: expected at least 8 of the id's hex digits (conveyor users invitations shows them), got "${id}"`, EXIT.USAGE);
        await withAccounts(async (auth) => {
          const matches = (await auth.invitations({ by: null })).filter((invitation) => invitation.tokenHash.startsWith(prefix));
          if (matches.length > 1) throw new CliError(`<id>: ${matches.length} open invitations start with ${prefix}; give more of it`, EXIT.USAGE);
          const match = matches[0];
          if (!match || !(await auth.revokeInvitation({ by: null, id: match.tokenHash }))) {
            throw new ConveyorError(ERROR_CODES.NOT_FOUND, `no open invitation has the id ${prefix} (used, expired or revoked? conveyor users invitations lists the open ones)`);
          }
          if (options.json) printJson({ id: match.tokenHash, revoked: true });
          else println(`Revoked the invitation ${match.tokenHash.slice(0, INVITATION_ID_SHOWN)} (for a ${match.role ?? 'user'}): its token registers nobody now.`);
        });
      }),
    );

  users
    .command('reset-password')
    .description('Issue a one-time password reset for an account; its owner sets a new password with it, which ends all their sessions')
    .argument('<login>', 'username or email')
    .option('--expires-in-hours <n>', 'how long it can be used (default auth.password_reset_ttl_ms, 1 hour)')
    .option('--json', 'print JSON: {user_id, reset_token, expires_at, dashboard_url}')
    .action(
      cliAction(async (login: string, options: { expiresInHours?: string; json?: boolean }) => {
        const ttlMs = options.expiresInHours === undefined ? undefined : parseIntFlag(options.expiresInHours, '--expires-in-hours', 1, 24 * 30) * HOUR_MS;
        await withAccounts(async (auth, engine, config) => {
          const user = await engine.userFind({ login });
          if (!user) throw new ConveyorError(ERROR_CODES.NOT_FOUND, `no account named ${login} (conveyor users list shows them)`);
          const issued = await auth.issuePasswordReset({ userId: user.id, by: null, ttlMs });
          const url = `${dashboardUrl(config)}/#/reset?token=${issued.token}`;
          if (options.json) {
            printJson({ user_id: user.id, reset_token: issued.token, expires_at: issued.expiresAt.toISOString(), dashboard_url: url });
            return;
          }
          println(`Password reset for ${user.username}, usable once until ${issued.expiresAt.toISOString()} (shown once):`);
          println(`  token      ${issued.token}`);
          println(`  dashboard  ${url}`);
          println(`  API        POST /auth/password-reset {"token": "${issued.token}", "new_password": "..."}`);
          println('Nothing changes until it is used; then every session of the account ends.');
        });
      }),
    );
}

/** Where this configuration's dashboard answers (behind a proxy the public address differs; the token is what matters). */
function dashboardUrl(config: Config): string {
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.server.port}`;
}

async function withAccounts(fn: (auth: AuthService, engine: Engine, config: Config) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level });
  const engine = await openMigratedEngine(config.database.url, { logger });
  try {
    await fn(new AuthService({ engine, config: apiConfigFrom(config).auth, clock: systemClock, logger }), engine, config);
  } finally {
    await engine.close();
  }
}

function roleOf(name: string): UserRole {
  if (!(USER_ROLES as readonly string[]).includes(name)) {
    throw new ConveyorError(ERROR_CODES.VALIDATION, `role must be one of ${USER_ROLES.join(', ')}`, { field: 'role' });
  }
  return name as UserRole;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
