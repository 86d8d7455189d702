import type { Command } from 'commander';
import { systemClock } from '../../core/clock.ts';
import { openEngine } from '../../store/create-engine.ts';
import { redactDatabaseUrl } from '../../store/database-url.ts';
import type { Engine } from '../../store/engine.ts';
import { assertDatabaseExists, cliLogger } from '../cli-engine.ts';
import { cliAction, CliError, EXIT } from '../cli-error.ts';
import { loadConfig } from '../config.ts';
import { runDoctorChecks, type Finding } from '../doctor-checks.ts';
import { workerLogHint } from '../log-locations.ts';
import { parseDuration, printJson, println } from '../output.ts';

const MARK: Record<Finding['status'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };

export function formatFindings(findings: readonly Finding[]): string {
  const width = Math.max(...findings.map((f) => f.check.length));
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`  ${MARK[f.status]}  ${f.check.padEnd(width)}  ${f.summary}`);
    if (f.fix && f.status !== 'ok') lines.push(`  ${' '.repeat(4 + 2 + width + 2)}-> ${f.fix}`);
  }
  return lines.join('\n');
}

/**
 * `conveyor doctor`: checks the database, the schema, the workers' heartbeats, the circuit breakers,
 * the queue's age and expired leases, and says what to do. Exit 1 when a problem is found.
 */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('Check the installation and say what to do: database, migrations, workers alive, breakers open, queue age, stuck tasks')
    .option('--fix', 'apply pending migrations (creating the SQLite database if missing); every other check only reads')
    .option('--max-wait <duration>', 'a ready task waiting longer than this is a problem (e.g. 60s, 5m)', '5m')
    .option('--json', 'print JSON: {ok, problems, warnings, findings}')
    .addHelpText('after', '\nExit codes: 0 nothing wrong (warnings allowed), 1 a problem was found, 2 invalid usage, 6 a configuration error.')
    .action(
      cliAction(async (options: { fix?: boolean; maxWait: string; json?: boolean }) => {
        const config = loadConfig();
        const maxWaitMs = parseDuration(options.maxWait, '--max-wait');
        const findings = await diagnose(config.database.url, !!options.fix, async (engine) =>
          runDoctorChecks(engine, {
            now: systemClock.now(),
            workerLiveMs: config.server.worker_live_ms,
            maxWaitMs,
            maintenanceIntervalMs: config.worker.maintenance_interval_ms,
            fix: !!options.fix,
            workerLogs: workerLogHint({ dataDir: config.data.dir, scriptsLogDir: process.env.CONVEYOR_LOG_DIR }),
          }),
          config,
        );
        const problems = findings.filter((f) => f.status === 'fail').length;
        const warnings = findings.filter((f) => f.status === 'warn').length;
        if (options.json) {
          printJson({ ok: problems === 0, problems, warnings, database: redactDatabaseUrl(config.database.url), findings });
        } else {
          println(`Conveyor doctor: ${redactDatabaseUrl(config.database.url)}`);
          println();
          println(formatFindings(findings));
          println();
          println(problems === 0 ? `No problems found${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}.` : `${problems} problem${problems === 1 ? '' : 's'} found${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}.`);
        }
        if (problems > 0) process.exitCode = EXIT.FAILURE;
      }),
    );
}

/** Opens the engine (a missing SQLite file or a failing open is itself a finding) and runs the checks. */
async function diagnose(url: string, fix: boolean, checks: (engine: Engine) => Promise<Finding[]>, config: ReturnType<typeof loadConfig>): Promise<Finding[]> {
  const unreachable = (summary: string, hint: string): Finding[] => [
    { check: 'database', status: 'fail', summary, fix: hint },
    ...(['schema', 'workers', 'task types', 'breakers', 'queue', 'leases', 'failures'] as const).map((check) => ({ check, status: 'skip' as const, summary: 'not checked: see database' })),
  ];
  if (!fix) {
    try {
      assertDatabaseExists(url);
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      return unreachable('the SQLite database file does not exist', 'Create and migrate it: conveyor migrate, ./scripts/dev.sh, or conveyor doctor --fix. Or point database.url at the right file (conveyor config).');
    }
  }
  let engine: Engine;
  try {
    engine = await openEngine(url, { logger: cliLogger(config) });
  } catch (error) {
    return unreachable(`cannot open: ${error instanceof Error ? error.message : String(error)}`, 'Check database.url (conveyor config) and the permissions of the file and its folder.');
  }
  try {
    return await checks(engine);
  } finally {
    await engine.close().catch(() => {});
  }
}
