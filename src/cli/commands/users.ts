import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { AuthService } from '../../auth/auth-service.ts';
import { systemClock } from '../../core/clock.ts';
import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import { createEngine } from '../../store/create-engine.ts';
import { USER_ROLES, type Engine, type UserRole } from '../../store/engine.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { apiConfigFrom } from './serve.ts';

interface CreateOptions {
  username: string;
  email: string;
  password?: string;
  passwordStdin?: boolean;
  admin?: boolean;
  role?: string;
}

/** `conveyor users create|set-role`: account administration from the shell (the API never grants roles). */
export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('Manage accounts');

  users
    .command('create')
    .description('Create an account; prints a generated password when none is given')
    .requiredOption('-u, --username <name>', '3-50 letters, digits, _ or -')
    .requiredOption('-e, --email <address>', 'the account\'s email')
    .option('--password <password>', 'the password (visible to other local users in the process list; prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--admin', 'give the admin role')
    .option('--role <role>', `one of ${USER_ROLES.join(', ')} (default user)`)
    .action(async (options: CreateOptions) => {
      const role = roleOf(options.admin ? 'admin' : (options.role ?? 'user'));
      let password = options.password ?? (options.passwordStdin ? await readStdin() : undefined);
      const generated = password === undefined;
      // 18 random bytes in base64url: 144 bits, and mixed classes so any policy accepts it.
      password ??= `${randomBytes(18).toString('base64url')}-9a`;
      await withAccounts(async (auth) => {
        const user = await auth.createUser({ username: options.username, email: options.email, password: password!, role });
        console.log(`Created ${user.role} ${user.username} <${user.email}> (id ${user.id}).`);
        if (generated) console.log(`Password (shown once): ${password}`);
      });
    });

  users
    .command('set-role')
    .description('Change an account\'s role')
    .argument('<login>', 'username or email')
    .argument('<role>', USER_ROLES.join(' | '))
    .action(async (login: string, roleName: string) => {
      const role = roleOf(roleName);
      await withAccounts(async (_auth, engine) => {
        const user = await engine.userFind({ login });
        if (!user) throw new ConveyorError(ERROR_CODES.NOT_FOUND, `no account named ${login}`);
        await engine.userUpdate({ id: user.id, changes: { role }, now: systemClock.now() });
        console.log(`${user.username} is now ${role}.`);
      });
    });
}

async function withAccounts(fn: (auth: AuthService, engine: Engine) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level });
  const engine = createEngine(config.database.url, { logger });
  try {
    await engine.migrate();
    await fn(new AuthService({ engine, config: apiConfigFrom(config).auth, clock: systemClock, logger }), engine);
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
