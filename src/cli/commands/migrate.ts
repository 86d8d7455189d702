import type { Command } from 'commander';
import { openEngine } from '../../store/create-engine.ts';
import { redactDatabaseUrl } from '../../store/database-url.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';

/** `conveyor migrate`: applies pending migrations and says which, in plain words on stdout. */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (safe to run while workers and servers run)')
    .action(async () => {
      const config = loadConfig();
      // Only problems are worth a log line here; the result is printed for people.
      const logger = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level });
      const engine = await openEngine(config.database.url, { logger });
      try {
        const report = await engine.migrate();
        const where = `${engine.kind} ${redactDatabaseUrl(config.database.url)}`;
        if (report.applied.length === 0) {
          console.log(`Database ${where} is up to date (schema version ${report.current}).`);
        } else {
          for (const step of report.applied) console.log(`Applied migration ${String(step.version).padStart(4, '0')}_${step.name}`);
          console.log(`Database ${where} is now at schema version ${report.current}.`);
        }
      } finally {
        await engine.close();
      }
    });
}
