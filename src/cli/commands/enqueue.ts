import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { taskDetail } from '../../api/views/task-view.ts';
import { systemClock } from '../../core/clock.ts';
import { newTask, type TaskInput } from '../../core/new-task.ts';
import { TASK_PRIORITIES, type TaskPriority } from '../../core/task.ts';
import { withEngine } from '../cli-engine.ts';
import { cliAction, CliError, EXIT } from '../cli-error.ts';
import { loadConfig, type Config } from '../config.ts';
import { parseDuration, parseIntFlag, parseJsonFlag, printJson, println } from '../output.ts';
import { payloadValidator } from '../payload-validator.ts';
import { importTasks, type ImportResult } from '../task-import.ts';

interface EnqueueOptions {
  payload?: string;
  payloadFile?: string;
  priority?: string;
  scheduledAt?: string;
  maxAttempts?: string;
  retryStrategy?: string;
  metadata?: string;
  idempotencyKey?: string;
  file?: string;
  batchSize: string;
  validate: boolean;
  progress: boolean;
  json?: boolean;
}

/** How many rejected lines are printed one by one; the rest are counted. */
const SHOWN_PROBLEMS = 50;

/** `conveyor enqueue`: one task from flags, or many from a JSON-lines file. */
export function registerEnqueueCommand(program: Command): void {
  program
    .command('enqueue')
    .description('Create a task (or many, from a JSON-lines file) as the API would, on the configured database')
    .argument('[task_type]', 'the task type, e.g. email (with --file: every line is a payload of this type)')
    .option('-d, --payload <json>', 'the payload as JSON', '{}')
    .option('--payload-file <file>', 'read the payload from a JSON file')
    .option('-p, --priority <priority>', TASK_PRIORITIES.join(' | '))
    .option('--scheduled-at <when>', 'run no earlier than this: an RFC 3339 time (2026-01-31T12:00:00Z) or +duration (+10m)')
    .option('--max-attempts <n>', 'attempts before the dead letter (default 3)')
    .option('--retry-strategy <json>', 'e.g. {"type":"exponential","base_delay_ms":1000,"multiplier":2,"max_delay_ms":300000}')
    .option('--metadata <json>', 'a JSON object stored with the task')
    .option('--idempotency-key <key>', 'enqueueing again with the same key returns the first task')
    .option('-f, --file <file>', 'JSON-lines file of tasks ({"task_type":..,"payload":..,"priority":..} per line), or - for stdin')
    .option('--batch-size <n>', 'with --file: tasks inserted per transaction (1-5000)', '500')
    .option('--no-validate', 'skip checking the task type and payload against the registered task types')
    .option('--no-progress', 'with --file: no progress bar')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  conveyor enqueue email --payload '{"to":"user@example.com","subject":"Hello","body":"Hi"}' --priority high
  conveyor enqueue webhook --payload-file hook.json --scheduled-at +10m --idempotency-key order-42
  conveyor enqueue --file tasks.jsonl          # {"task_type":"email","payload":{...}} per line
  conveyor enqueue email --file payloads.jsonl # one payload per line

With --file, every line is checked on its own: bad lines are reported with their line number (exit 1)
and the good ones are still enqueued.`,
    )
    .action(
      cliAction(async (taskType: string | undefined, options: EnqueueOptions) => {
        const config = loadConfig();
        if (options.file !== undefined) {
          await enqueueFile(config, taskType, options);
          return;
        }
        if (taskType === undefined) throw new CliError('give a task type (conveyor enqueue email --payload ...) or --file <tasks.jsonl>', EXIT.USAGE);
        await enqueueOne(config, taskType, options);
      }),
    );
}

function scheduledAtFlag(text: string): string {
  const relative = /^\+(.+)$/.exec(text.trim());
  if (!relative) return text;
  return new Date(systemClock.now().getTime() + parseDuration(relative[1]!, '--scheduled-at')).toISOString();
}

async function enqueueOne(config: Config, taskType: string, options: EnqueueOptions): Promise<void> {
  let payloadText = options.payload ?? '{}';
  if (options.payloadFile !== undefined) {
    if (!existsSync(options.payloadFile)) throw new CliError(`--payload-file ${options.payloadFile} does not exist`, EXIT.USAGE);
    payloadText = readFileSync(options.payloadFile, 'utf8');
  }
  const priority = options.priority as TaskPriority | undefined;
  const input: TaskInput = {
    taskType,
    payload: parseJsonFlag(payloadText, options.payloadFile ? '--payload-file' : '--payload'),
    priority,
    scheduledAt: options.scheduledAt === undefined ? undefined : scheduledAtFlag(options.scheduledAt),
    maxAttempts: options.maxAttempts === undefined ? undefined : parseIntFlag(options.maxAttempts, '--max-attempts', 1, 1000),
    retryStrategy: options.retryStrategy === undefined ? undefined : parseJsonFlag(options.retryStrategy, '--retry-strategy'),
    metadata: options.metadata === undefined ? undefined : parseJsonFlag(options.metadata, '--metadata'),
    idempotencyKey: options.idempotencyKey,
  };
  await withEngine(config, async (engine) => {
    // The flags' values (priority, max_attempts, ...) are checked first, then the payload against its type.
    const task = newTask(input, systemClock.now());
    if (options.validate) await (await payloadValidator(config, engine))(task.taskType, task.payload);
    const { task: stored, created } = await engine.taskInsert({ task });
    if (options.json) {
      printJson({ created, task: taskDetail(stored) });
      return;
    }
    if (created) {
      const when = stored.status === 'scheduled' ? `, due ${stored.runAt.toISOString()}` : '';
      println(`Enqueued ${stored.taskType} task ${stored.id} (${stored.status}, priority ${stored.priority}${when}).`);
    } else {
      println(`A task with idempotency key ${JSON.stringify(options.idempotencyKey)} exists already: ${stored.id} (${stored.taskType}, ${stored.status}). Nothing new was enqueued.`);
    }
  });
}

/** Newlines in a file, for the progress bar's total (a quick pass; stdin has no total). */
async function countLines(file: string): Promise<number> {
  let count = 0;
  let last = 10;
  for await (const chunk of createReadStream(file)) {
    const bytes = chunk as Buffer;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) count += 1;
    if (bytes.length > 0) last = bytes[bytes.length - 1]!;
  }
  return last === 10 ? count : count + 1;
}

async function enqueueFile(config: Config, taskType: string | undefined, options: EnqueueOptions): Promise<void> {
  const file = options.file!;
  const fromStdin = file === '-';
  if (!fromStdin && !existsSync(file)) throw new CliError(`--file ${file} does not exist`, EXIT.USAGE);
  const batchSize = parseIntFlag(options.batchSize, '--batch-size', 1, 5000);
  const name = fromStdin ? 'stdin' : file;
  const showBar = options.progress && !options.json && process.stderr.isTTY === true;
  const total = fromStdin || !showBar ? 0 : await countLines(file);
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `enqueue {bar} {value}/{total} lines | {accepted} accepted, {rejected} rejected | {eta_formatted} left`,
          hideCursor: true,
          etaBuffer: 200,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;

  const result = await withEngine(config, async (engine) => {
    const validate = options.validate ? await payloadValidator(config, engine) : undefined;
    bar?.start(total, 0, { accepted: 0, rejected: 0 });
    const input = fromStdin ? process.stdin : createReadStream(file);
    try {
      return await importTasks({
        engine,
        lines: createInterface({ input, crlfDelay: Infinity }),
        taskType,
        ...(validate ? { validate } : {}),
        batchSize,
        now: () => systemClock.now(),
        // Counted by lines read, blank ones too, so the bar reaches its total.
        onLine: (r: ImportResult) => bar?.increment(1, { accepted: r.lines - r.rejected.length, rejected: r.rejected.length }),
      });
    } finally {
      bar?.stop();
    }
  });

  if (options.json) {
    printJson({ file: name, lines: result.lines, enqueued: result.enqueued, duplicates: result.duplicates, rejected: result.rejected, tasks: result.tasks });
  } else {
    for (const problem of result.rejected.slice(0, SHOWN_PROBLEMS)) process.stderr.write(`${name}:${problem.line}: ${problem.message}\n`);
    if (result.rejected.length > SHOWN_PROBLEMS) process.stderr.write(`... and ${result.rejected.length - SHOWN_PROBLEMS} more rejected lines (--json lists them all)\n`);
    const duplicates = result.duplicates > 0 ? `, ${result.duplicates} already there (same idempotency key)` : '';
    const rejected = result.rejected.length > 0 ? `; rejected ${result.rejected.length} line${result.rejected.length === 1 ? '' : 's'} (listed above)` : '';
    println(`Enqueued ${result.enqueued} of ${result.lines} tasks from ${name}${duplicates}${rejected}.`);
  }
  if (result.rejected.length > 0) process.exitCode = EXIT.FAILURE;
}

