import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { redactDatabaseUrl } from '../../store/database-url.ts';
import { EXIT } from '../cli-error.ts';
import { openMigratedEngine } from '../../store/create-engine.ts';
import { loadConfig, resolveConfig, type Config } from '../config.ts';
import { envWithFlags } from '../flag-settings.ts';
import { parseIntFlag } from '../output.ts';
import { Supervisor } from '../supervisor.ts';
import { listenError } from '../listen-error.ts';

/**
 * The children run the same program as this process (bin/conveyor.js, or the sources through tsx when
 * the tests run it that way), with the same Node options (see Supervisor).
 */
const CONVEYOR_BIN = process.argv[1] ?? fileURLToPath(new URL('../../../bin/conveyor.js', import.meta.url));

/**
 * `npm start` is for trying Conveyor on one machine: unless the operator chose a registration policy
 * (environment or config file), it opens registration, so the guide's curl session can register
 * accounts, but only while the server listens on loopback, where no stranger can reach it. The
 * password rules are the same as `conveyor serve`'s: one policy for every way of starting.
 */
function withTryItDefaults(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const result = { ...env };
  const { config, sources } = resolveConfig(env);
  if (sources['auth.registration']?.kind === 'default' && isLoopback(config.server.host)) result.CONVEYOR__AUTH__REGISTRATION = 'open';
  return result;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Migrates once, before any child starts, and makes sure someone can log in as an admin. */
async function prepareDatabase(config: Config, env: NodeJS.ProcessEnv): Promise<{ adminPassword: string | null }> {
  const engine = await openMigratedEngine(config.database.url);
  try {
    if ((await engine.userCount({ role: 'admin' })) > 0 || config.auth.initial_admin_password !== '') return { adminPassword: null };
    // The server creates the first admin from this setting; the password is shown once, below.
    const adminPassword = `Cv-${randomBytes(12).toString('base64url')}`;
    env.CONVEYOR__AUTH__INITIAL_ADMIN_PASSWORD = adminPassword;
    return { adminPassword };
  } finally {
    await engine.close();
  }
}

/** Fails at once, before anything starts, when another program has the port (a configuration error, exit 6). */
async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (error) {
    throw listenError(error, host, port);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

async function waitUntilServing(url: string, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health/live`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

export async function runStart(options: { workers: number; env?: NodeJS.ProcessEnv }): Promise<number> {
  const env = withTryItDefaults(options.env ?? process.env);
  const config = loadConfig(env);
  const say = (line = '') => process.stdout.write(`${line}\n`);
  await assertPortFree(config.server.host, config.server.port);
  const { adminPassword } = await prepareDatabase(config, env);

  const logDir = join(config.data.dir, 'logs');
  // A child that cannot run as configured (exit 2 or 6) stops the whole thing: restarting it would only fail again.
  let fatal: (code: number) => void = () => {};
  const fatalExit = new Promise<number>((resolve) => (fatal = resolve));
  const supervisor = new Supervisor(
    CONVEYOR_BIN,
    {
      started: (name, pid) => say(`  started ${name} (pid ${pid})`),
      exited: (name, code, signal, restartInMs) =>
        say(restartInMs === null ? `  ${name} stopped` : `  ${name} exited (${signal ?? `code ${code}`}); restarting in ${restartInMs / 1000} s — see ${join(logDir, `${name}.log`)}`),
      gaveUp: (name, code, reason) => {
        process.stderr.write(`conveyor: ${name} cannot run: ${reason ?? `it exited with code ${code}`}; not restarting it (see ${join(logDir, `${name}.log`)})\n`);
        fatal(code);
      },
    },
    { fatalExitCodes: [EXIT.USAGE, EXIT.CONFIG] },
  );
  const childEnv = { ...env, CONVEYOR__DATABASE__URL: config.database.url };
  say(`Conveyor on ${config.database.url.startsWith('sqlite:') ? 'SQLite' : 'PostgreSQL'} (${redactDatabaseUrl(config.database.url)})`);
  supervisor.add({ name: 'server', args: ['serve', '--no-migrate'], env: childEnv, logFile: join(logDir, 'server.log') });
  for (let n = 1; n <= options.workers; n++) {
    supervisor.add({ name: `worker-${n}`, args: ['work', '--no-migrate'], env: childEnv, logFile: join(logDir, `worker-${n}.log`) });
  }

  let stopRequested!: () => void;
  const stopSignal = new Promise<void>((resolve) => (stopRequested = resolve));
  process.once('SIGINT', () => stopRequested());
  process.once('SIGTERM', () => stopRequested());
  let exitCode: number = EXIT.OK;
  void fatalExit.then((code) => {
    exitCode = code;
    stopRequested();
  });

  const host = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.server.port}`;
  const serving = await Promise.race([waitUntilServing(url, 30_000), stopSignal.then(() => null)]);
  if (serving) {
    say();
    say(`  Dashboard  ${url}/`);
    say(`  API        ${url}`);
    say(`  API docs   ${url}/api-docs`);
    say(`  Workers    ${options.workers} processes`);
    say(`  Logs       ${logDir}/`);
    say();
    if (adminPassword) say(`  Log in as admin with password ${adminPassword} (shown once)`);
    say('  Your own admin:      npx conveyor users create --admin --username <name> --email <address>');
    say(`  Or make an account:  curl -X POST ${url}/auth/register -H 'Content-Type: application/json' \\`);
    say(`                         -d '{"username":"test","email":"test@example.com","password":"Test-Pass-2026"}'`);
    say(`  Registration         ${config.auth.registration}${config.auth.registration === 'open' ? ' (this machine only; `conveyor serve` defaults to invite)' : ''}`);
    say();
    say('  Ctrl-C stops everything gracefully.');
  } else if (serving === false) {
    say(`  The API did not answer at ${url} within 30 s; see ${join(logDir, 'server.log')}`);
  }

  await stopSignal;
  say(exitCode === EXIT.OK ? 'Stopping: running tasks get the workers\' grace period...' : 'Stopping the other processes...');
  await supervisor.stop(config.worker.shutdown_grace_ms + 5000);
  say('Stopped.');
  return exitCode;
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Run the whole system on this machine: migrate, then the API and worker processes, supervised, until Ctrl-C')
    .option('-w, --workers <n>', 'worker processes (0-64)', '2')
    .option('-p, --port <port>', 'the API\'s port (server.port, default 3000)')
    .addHelpText('after', '\nLogs: <data.dir>/logs/server.log and worker-<n>.log (./data/logs by default). A process that crashes is\nrestarted; one that cannot run as configured (exit 2 or 6, such as its port in use) stops everything\nwith that exit code.')
    .action(async (options: { workers: string; port?: string }) => {
      const workers = parseIntFlag(options.workers, '--workers', 0, 64);
      const env = envWithFlags(process.env, [{ flag: '--port', env: 'CONVEYOR__SERVER__PORT', value: options.port }]);
      process.exitCode = await runStart({ workers, env });
    });
}
