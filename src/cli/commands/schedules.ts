import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { scheduleView } from '../../api/views/schedule-view.ts';
import { taskDetail } from '../../api/views/task-view.ts';
import { saveSchedule } from '../../client/save-schedule.ts';
import { systemClock } from '../../core/clock.ts';
import { reviseSchedule, taskRunNow, type ScheduleRecord } from '../../core/schedule.ts';
import { TASK_PRIORITIES, type TaskPriority } from '../../core/task.ts';
import type { Engine } from '../../store/engine.ts';
import { withEngine } from '../cli-engine.ts';
import { cliAction, CliError, EXIT } from '../cli-error.ts';
import { loadConfig } from '../config.ts';
import { formatAgo, formatTable, parseIntFlag, parseJsonFlag, printJson, printJsonList, println } from '../output.ts';
import { confirmDeletion } from '../prompt.ts';
import { payloadValidator } from '../payload-validator.ts';

interface AddOptions {
  payload: string;
  payloadFile?: string;
  timezone: string;
  priority?: string;
  maxAttempts?: string;
  retryStrategy?: string;
  metadata?: string;
  disabled?: boolean;
  validate: boolean;
  json?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `conveyor schedules`: recurring tasks on a cron schedule. */
export function registerSchedulesCommand(program: Command): void {
  const schedules = program.command('schedules').description('Recurring tasks: list, add, pause, resume, run now or remove cron schedules');

  schedules
    .command('list', { isDefault: true })
    .description('Every schedule with its next and last run (the default)')
    .option('--json', 'print JSON: {items, total, next_cursor}, each item in the API\'s /schedules shape')
    .action(
      cliAction(async (options: { json?: boolean }) => {
        await withEngine(loadConfig(), async (engine) => {
          const all = await engine.scheduleList({});
          if (options.json) {
            printJsonList(all.map(scheduleView));
            return;
          }
          if (all.length === 0) {
            println('No schedules. Add one: conveyor schedules add nightly-report "0 3 * * *" report_generation --payload \'{...}\'');
            return;
          }
          const now = systemClock.now();
          println(
            formatTable(
              [{ header: 'NAME', max: 32 }, { header: 'TASK TYPE', max: 24 }, { header: 'CRON' }, { header: 'TIME ZONE' }, { header: 'STATE' }, { header: 'NEXT RUN' }, { header: 'LAST RUN' }, { header: 'OWNER', max: 36 }],
              all.map((s) => [
                s.name,
                s.taskType,
                s.cron,
                s.timezone,
                s.enabled ? 'enabled' : 'paused',
                s.nextRunAt ? `${s.nextRunAt.toISOString()} (${formatAgo(s.nextRunAt, now)})` : '—',
                formatAgo(s.lastRunAt, now),
                s.createdBy ?? '(system)',
              ]),
            ),
          );
        });
      }),
    );

  schedules
    .command('add')
    .description('Create a schedule, or change the one of that name (made here or by the library, not a user\'s)')
    .argument('<name>', 'unique name, e.g. nightly-report')
    .argument('<cron>', 'when: "0 3 * * *" (03:00 daily), "*/5 * * * *", six fields with seconds first, or @hourly, @daily, @weekly, @monthly')
    .argument('<task_type>', 'the task type each run creates')
    .option('-d, --payload <json>', 'the payload as JSON', '{}')
    .option('--payload-file <file>', 'read the payload from a JSON file')
    .option('-z, --timezone <zone>', 'IANA time zone the cron is read in', 'UTC')
    .option('-p, --priority <priority>', TASK_PRIORITIES.join(' | '))
    .option('--max-attempts <n>', 'attempts of each task before the dead letter (default 3)')
    .option('--retry-strategy <json>', 'e.g. {"type":"linear","base_delay_ms":5000}')
    .option('--metadata <json>', 'a JSON object stored with each task')
    .option('--disabled', 'create it paused')
    .option('--no-validate', 'skip checking the task type and payload against the registered task types')
    .option('--json', 'print JSON: {created, schedule}')
    .action(
      cliAction(async (name: string, cron: string, taskType: string, options: AddOptions) => {
        const config = loadConfig();
        let payloadText = options.payload;
        if (options.payloadFile !== undefined) {
          if (!existsSync(options.payloadFile)) throw new CliError(`--payload-file ${options.payloadFile} does not exist`, EXIT.USAGE);
          payloadText = readFileSync(options.payloadFile, 'utf8');
        }
        const payload = parseJsonFlag(payloadText, options.payloadFile ? '--payload-file' : '--payload');
        await withEngine(config, async (engine) => {
          if (options.validate) await (await payloadValidator(config, engine))(taskType, payload);
          const { schedule, created } = await saveSchedule(
            engine,
            {
              name,
              cron,
              timezone: options.timezone,
              taskType,
              payload,
              priority: options.priority as TaskPriority | undefined,
              maxAttempts: options.maxAttempts === undefined ? undefined : parseIntFlag(options.maxAttempts, '--max-attempts', 1, 1000),
              retryStrategy: options.retryStrategy === undefined ? undefined : parseJsonFlag(options.retryStrategy, '--retry-strategy'),
              metadata: options.metadata === undefined ? undefined : parseJsonFlag(options.metadata, '--metadata'),
              enabled: !options.disabled,
            },
            systemClock.now(),
          );
          if (options.json) {
            printJson({ created, schedule: scheduleView(schedule) });
            return;
          }
          println(`${created ? 'Created' : 'Updated'} schedule ${schedule.name} (${schedule.id}): ${schedule.taskType} at "${schedule.cron}" ${schedule.timezone}.`);
          println(schedule.nextRunAt ? `Next run ${schedule.nextRunAt.toISOString()}; a running worker fires it.` : 'Paused: resume it with conveyor schedules resume ' + schedule.name);
        });
      }),
    );

  for (const [command, enabled, description] of [
    ['pause', false, 'Stop creating tasks until resumed'],
    ['resume', true, 'Create tasks again, counting the next run from now (runs missed while paused are not made)'],
  ] as const) {
    schedules
      .command(command)
      .description(description)
      .argument('<schedule>', 'its name or id')
      .action(
        cliAction(async (ref: string) => {
          await withEngine(loadConfig(), async (engine) => {
            const schedule = await findSchedule(engine, ref);
            const now = systemClock.now();
            const updated = await engine.scheduleUpdate({ id: schedule.id, changes: reviseSchedule(schedule, { enabled }, now), now });
            if (!updated) throw new CliError(`schedule ${ref} was deleted meanwhile`, EXIT.NOT_FOUND);
            println(enabled ? `Resumed ${updated.name}; next run ${updated.nextRunAt?.toISOString()}.` : `Paused ${updated.name}.`);
          });
        }),
      );
  }

  schedules
    .command('run')
    .description('Create the schedule\'s task now (its own times do not move)')
    .argument('<schedule>', 'its name or id')
    .option('--json', 'print JSON: {created, task} (as enqueue prints)')
    .action(
      cliAction(async (ref: string, options: { json?: boolean }) => {
        await withEngine(loadConfig(), async (engine) => {
          const schedule = await findSchedule(engine, ref);
          const { task } = await engine.taskInsert({ task: taskRunNow(schedule, systemClock.now()) });
          if (options.json) printJson({ created: true, task: taskDetail(task) });
          else println(`Enqueued ${task.taskType} task ${task.id} from schedule ${schedule.name}.`);
        });
      }),
    );

  schedules
    .command('remove')
    .description('Delete a schedule (asks first); the tasks it created stay')
    .argument('<schedule>', 'its name or id')
    .option('-y, --yes', 'delete without asking (needed when there is no terminal)')
    .action(
      cliAction(async (ref: string, options: { yes?: boolean }) => {
        await withEngine(loadConfig(), async (engine) => {
          const schedule = await findSchedule(engine, ref);
          await confirmDeletion(`schedule ${schedule.name} (${schedule.taskType} at "${schedule.cron}" ${schedule.timezone}) would be deleted`, options.yes);
          if (!(await engine.scheduleDelete({ id: schedule.id }))) throw new CliError(`schedule ${ref} was deleted meanwhile`, EXIT.NOT_FOUND);
          println(`Removed schedule ${schedule.name}.`);
        });
      }),
    );
}

/** A schedule by id, or by name when exactly one schedule has it (users' schedules may share names). */
async function findSchedule(engine: Engine, ref: string): Promise<ScheduleRecord> {
  if (UUID.test(ref)) {
    const schedule = await engine.scheduleGet({ id: ref.toLowerCase() });
    if (!schedule) throw new CliError(`no schedule ${ref}`, EXIT.NOT_FOUND);
    return schedule;
  }
  const named = (await engine.scheduleList({})).filter((s) => s.name === ref);
  if (named.length === 0) throw new CliError(`no schedule is named ${ref} (conveyor schedules list shows them)`, EXIT.NOT_FOUND);
  if (named.length > 1) throw new CliError(`${named.length} schedules are named ${ref} (different owners); give its id: ${named.map((s) => s.id).join(', ')}`, EXIT.USAGE);
  return named[0]!;
}
