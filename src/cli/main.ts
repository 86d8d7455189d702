import { Command, CommanderError } from 'commander';
import { CliError, EXIT, EXIT_CODES_HELP, toCliError } from './cli-error.ts';
import { CONFIG_FILE_ENV } from './config-file.ts';

/**
 * The `conveyor` command. Each subcommand lives in its own file under commands/ and adds itself to
 * the program; to add one, write commands/<name>.ts exporting register<Name>Command and list it in COMMANDS.
 */
const program = new Command('conveyor')
  .description('Conveyor: durable background tasks on SQLite or PostgreSQL')
  .showHelpAfterError()
  .exitOverride()
  .option('--config <file>', `read settings from this JSON file (like ${CONFIG_FILE_ENV}=<file>; default ./conveyor.config.json if present)`)
  .addHelpText('after', `\n${EXIT_CODES_HELP}`);

// --config works like CONVEYOR_CONFIG, so it also reaches the processes `conveyor start` runs.
program.hook('preAction', () => {
  const file = program.opts<{ config?: string }>().config;
  if (file !== undefined) process.env[CONFIG_FILE_ENV] = file;
});

/**
 * Every command, by the file that defines it. Only the command being run is loaded (all of them for
 * the overall help or an unknown name), so `conveyor tasks list` does not pay for the HTTP server's
 * imports: an operator's command starts in a fraction of the time.
 */
const COMMANDS: readonly (readonly [string, () => Promise<(program: Command) => void>])[] = [
  ['start', async () => (await import('./commands/start.ts')).registerStartCommand],
  ['work', async () => (await import('./commands/work.ts')).registerWorkCommand],
  ['migrate', async () => (await import('./commands/migrate.ts')).registerMigrateCommand],
  ['serve', async () => (await import('./commands/serve.ts')).registerServeCommand],
  ['users', async () => (await import('./commands/users.ts')).registerUsersCommand],
  ['enqueue', async () => (await import('./commands/enqueue.ts')).registerEnqueueCommand],
  ['tasks', async () => (await import('./commands/tasks.ts')).registerTasksCommand],
  ['stats', async () => (await import('./commands/stats.ts')).registerStatsCommand],
  ['workers', async () => (await import('./commands/workers.ts')).registerWorkersCommand],
  ['dead-letter', async () => (await import('./commands/dead-letter.ts')).registerDeadLetterCommand],
  ['schedules', async () => (await import('./commands/schedules.ts')).registerSchedulesCommand],
  ['types', async () => (await import('./commands/types.ts')).registerTypesCommand],
  ['prune', async () => (await import('./commands/prune.ts')).registerPruneCommand],
  ['doctor', async () => (await import('./commands/doctor.ts')).registerDoctorCommand],
  ['config', async () => (await import('./commands/config.ts')).registerConfigCommand],
];

/** The command named on the command line (skipping global options), or null. */
function invokedCommand(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config') i += 1;
    else if (!args[i]!.startsWith('-')) return args[i]!;
  }
  return null;
}

const invoked = invokedCommand(process.argv.slice(2));
const known = COMMANDS.some(([name]) => name === invoked);
for (const [name, load] of COMMANDS) {
  if (!known || name === invoked) (await load())(program);
}

// Started by `conveyor start`: if the supervisor goes away, stop gracefully rather than run unwatched.
if (process.send) process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));

try {
  await program.parseAsync(process.argv);
} catch (caught) {
  // Engine and core errors (a validation, a missing account, a bad setting) get their exit code here.
  const error = toCliError(caught);
  if (error instanceof CommanderError) {
    // Help and --version leave with 0; any other complaint of the parser is a usage error.
    process.exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else if (error instanceof CliError) {
    process.stderr.write(`conveyor: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`conveyor: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT.FAILURE;
  }
}
// Leave even if a handler that ignored its abort still holds a timer: the work is recorded or handed back.
process.exit(process.exitCode ?? 0);
