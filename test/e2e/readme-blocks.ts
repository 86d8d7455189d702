import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTracked } from '../helpers/process-registry.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One fenced code block of README.md: its language, text, and the heading it sits under. */
export interface ReadmeBlock {
  lang: string;
  code: string;
  heading: string;
  /** The block's first line: with the heading, how a test names the block it runs. */
  firstLine: string;
}

/** Every fenced code block of README.md, in order, exactly as printed. */
export function readmeBlocks(): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  let heading = '';
  let open: { lang: string; lines: string[] } | null = null;
  for (const line of readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n')) {
    if (open) {
      if (line.startsWith('```')) {
        const code = open.lines.join('\n');
        blocks.push({ lang: open.lang, code, heading, firstLine: open.lines[0] ?? '' });
        open = null;
      } else open.lines.push(line);
    } else if (line.startsWith('```')) open = { lang: line.slice(3).trim(), lines: [] };
    else if (/^#{2,3} /.test(line)) heading = line.replace(/^#+ /, '');
  }
  return blocks;
}

/** The block under `heading` whose first line starts with `start`; fails when the README has no such block. */
export function readmeBlock(heading: string, start: string): ReadmeBlock {
  const block = readmeBlocks().find((b) => b.heading === heading && b.firstLine.startsWith(start));
  if (!block) throw new Error(`README.md has no code block under "${heading}" starting with ${start}`);
  return block;
}

/** The shell commands of a block: one per line, comments removed ("# ..." after the command), blank lines dropped. */
export function shellCommands(block: ReadmeBlock): string[] {
  return block.code
    .split('\n')
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * A process started in its own group (registered, so it dies with the test file even if the test
 * fails), so that it and its children (npm -> node) stop together.
 */
export class GroupProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(command: string, args: string[], options: { cwd: string; env: Record<string, string> }) {
    this.child = spawnTracked(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Sends `signal` to the group and waits for the process to end. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        process.kill(-this.child.pid!, signal);
      } catch {
        // already gone
      }
    }
    return this.exited;
  }
}

/** The environment a README command runs in: only what the test sets (never the machine's DATABASE_URL). */
export function readmeEnv(extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    // npx must find the package's own `conveyor`, never download anything.
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}
