import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
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

/**
 * `npx conveyor ...` in this checkout runs bin/conveyor.js: that is what npm exec resolves it to. npm's
 * own start-up costs about 2.5 s of CPU per call, twice what the command itself costs, and the README
 * tour makes some twenty such calls. Writes an `npx` into `dir/.bin` that runs `npx conveyor` as
 * bin/conveyor.js directly (any other npx call goes to the real one) and returns `env` with it first
 * in PATH. What the shim skips is proven elsewhere: the README PostgreSQL test runs its commands
 * through the real npx, and test/package/consumer.sh runs `npx conveyor` in a project that installed
 * the packed tarball.
 */
export function withConveyorNpx(env: Record<string, string>, dir: string): Record<string, string> {
  const path = env.PATH ?? '';
  const realNpx = path.split(delimiter).map((folder) => join(folder, 'npx')).find((file) => existsSync(file));
  const bin = join(dir, '.bin');
  mkdirSync(bin, { recursive: true });
  const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
  writeFileSync(
    join(bin, 'npx'),
    `#!/bin/sh\nif [ "$1" = conveyor ]; then shift; exec ${quote(process.execPath)} ${quote(join(ROOT, 'bin', 'conveyor.js'))} "$@"; fi\n` +
      (realNpx ? `exec ${quote(realNpx)} "$@"\n` : 'echo "npx: not found" >&2; exit 127\n'),
  );
  chmodSync(join(bin, 'npx'), 0o755);
  return { ...env, PATH: `${bin}${delimiter}${path}` };
}

/** Newest modification time of the files under `dir` (or of `dir` itself when it is a file). */
function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), 0);
}

/** Oldest modification time of the files under `dir`. */
function oldestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((oldest, name) => Math.min(oldest, oldestMtime(join(path, name))), Infinity);
}

/**
 * Whether dist/ was built after the last change to what it is built from. scripts/build.mjs removes
 * dist/ and writes every file again, so its oldest file is younger than the build's start; when every
 * source is older still, a build would write the same files. In CI `npm ci` has just built it (the
 * `prepare` script), so the README tests need not build it again.
 */
export function distIsCurrent(): boolean {
  const dist = join(ROOT, 'dist');
  if (!existsSync(join(dist, 'cli', 'main.js'))) return false;
  const sources = ['src', 'scripts/build.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map((path) => join(ROOT, path));
  return Math.max(...sources.map(newestMtime)) < oldestMtime(dist);
}
