import { Command, CommanderError } from 'commander';
import { ConveyorError, ERROR_CODES } from '../core/errors.ts';
import { registerMigrateCommand } from './commands/migrate.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerStartCommand } from './commands/start.ts';
import { registerUsersCommand } from './commands/users.ts';
import { registerWorkCommand } from './commands/work.ts';

/**
 * The `conveyor` command. Each subcommand lives in its own file under commands/ and adds itself to
 * the program here; to add one, write commands/<name>.ts exporting register<Name>Command and list it.
 */
const program = new Command('conveyor')
  .description('Conveyor: durable background tasks on SQLite or PostgreSQL')
  .showHelpAfterError()
  .exitOverride();

registerStartCommand(program);
registerWorkCommand(program);
registerMigrateCommand(program);
registerServeCommand(program);
registerUsersCommand(program);

// Started by `conveyor start`: if the supervisor goes away, stop gracefully rather than run unwatched.
if (process.send) process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (error instanceof ConveyorError && error.code === ERROR_CODES.CONFIG) {
    process.stderr.write(`conveyor: configuration error: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`conveyor: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
// Leave even if a handler that ignored its abort still holds a timer: the work is recorded or handed back.
process.exit(process.exitCode ?? 0);
