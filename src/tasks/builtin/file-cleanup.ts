import type { BigIntStats } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Type } from '@sinclair/typebox';
import { systemClock, type Clock } from '../../core/clock.ts';
import type { JsonObject } from '../../core/task.ts';
import { PermanentTaskError } from '../../core/task-errors.ts';
import { defineTask, type TaskDefinition } from '../define-task.ts';
import { globMatcher } from './name-glob.ts';
import { locate, resolveRoots, type CleanupRoots } from './path-guard.ts';
import { DirectoryChangedError, PinnedDirectory, sameInode } from './pinned-directory.ts';

export interface FileCleanupSettings {
  /** The only folders file_cleanup may delete in (and below); relative ones are resolved against `baseDir`. */
  roots: string[];
  /** What relative roots and relative `file_path`s are resolved against (default: the working directory at start-up). */
  baseDir?: string;
  /** At most this many directory entries are looked at per task (default 1,000,000); beyond, the output says `incomplete`. */
  maxEntries?: number;
}

/** How many file names the output lists; the counts cover all of them. */
export const LISTED_FILES_LIMIT = 100;
const MAX_DEPTH = 64;
const MAX_ENTRIES = 1_000_000;
const HOUR_MS = 3_600_000;

const FileCleanupPayload = Type.Object(
  {
    // No regex pattern here: a schema's pattern error shows the raw regex; the handler says what is wrong instead.
    file_path: Type.String({ minLength: 1, maxLength: 4096, description: 'A folder or file inside one of the configured cleanup roots; a relative path is resolved against the working directory of the workers' }),
    max_age_hours: Type.Number({ minimum: 0, maximum: 87_600, description: 'Delete files last modified longer ago than this' }),
    dry_run: Type.Optional(Type.Boolean({ description: 'Report what would be deleted, delete nothing' })),
    pattern: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Only file names matching this glob: * any run of characters, ? one character (no /)' })),
  },
  { additionalProperties: false },
);

interface Tally {
  scanned: number;
  matched: number;
  matchedBytes: number;
  removed: number;
  removedBytes: number;
  files: string[];
  skippedSymlinks: number;
  skippedChanged: number;
  errors: string[];
  errorCount: number;
  incomplete: boolean;
}

/**
 * `file_cleanup`: deletes regular files older than `max_age_hours` under `file_path`, which must
 * really (after realpath) lie inside a configured root. Roots are resolved once, at start-up.
 *
 * No path is resolved again between a check and a delete: from the root down, each folder is opened
 * (O_NOFOLLOW, so never through a symlink) and everything below it is listed, checked and unlinked
 * relative to that open folder (see PinnedDirectory). Symlinks are never followed, folders never
 * removed; just before each unlink the file is lstat-ed again and must still be the same file (device
 * and inode), still old enough.
 */
export function createFileCleanupTask(settings: FileCleanupSettings, clock: Clock = systemClock): TaskDefinition<typeof FileCleanupPayload> {
  const baseDir = settings.baseDir ?? process.cwd();
  const maxEntries = settings.maxEntries ?? MAX_ENTRIES;
  let roots = resolveRoots(settings.roots, baseDir);
  return defineTask({
    name: 'file_cleanup',
    description: 'Deletes files older than max_age_hours under a path inside the configured cleanup roots (never follows symlinks).',
    payload: FileCleanupPayload,
    examples: [
      { file_path: '/tmp/uploads', max_age_hours: 24 },
      { file_path: './data/uploads', max_age_hours: 168, pattern: '*.tmp', dry_run: true },
    ],
    timeoutMs: 600_000,
    async handler(payload, context) {
      const problem = payloadProblem(payload);
      if (problem !== null) throw new PermanentTaskError(problem);
      // A root missing at start-up may have been made since.
      if (roots.missing.length > 0) roots = resolveRoots(settings.roots, baseDir);
      const located = await locate(resolve(baseDir, payload.file_path), roots);
      if (located.kind === 'outside') {
        throw new PermanentTaskError(`file_path ${payload.file_path} is outside the allowed cleanup roots: ${describeRoots(settings.roots, baseDir, roots)}`);
      }
      const dryRun = payload.dry_run === true;
      const cutoffMs = clock.now().getTime() - payload.max_age_hours * HOUR_MS;
      const base = { path: located.path, dry_run: dryRun, max_age_hours: payload.max_age_hours, cutoff: new Date(cutoffMs).toISOString() };
      const tally: Tally = {
        scanned: 0, matched: 0, matchedBytes: 0, removed: 0, removedBytes: 0, files: [],
        skippedSymlinks: 0, skippedChanged: 0, errors: [], errorCount: 0, incomplete: false,
      };
      if (located.kind === 'missing') return { ...base, missing: true, ...summary(tally) };

      const matches = payload.pattern === undefined ? () => true : globMatcher(payload.pattern);
      const consider = async (dir: PinnedDirectory, name: string, stats: BigIntStats) => {
        tally.scanned++;
        if (!matches(name) || Number(stats.mtimeMs) >= cutoffMs) return;
        tally.matched++;
        tally.matchedBytes += Number(stats.size);
        const path = join(dir.path, name);
        if (tally.files.length < LISTED_FILES_LIMIT) tally.files.push(relative(located.root, path) || path);
        if (dryRun) return;
        try {
          const removed = await dir.remove(name, (now) => now.isFile() && sameInode(now, stats) && Number(now.mtimeMs) < cutoffMs);
          if (removed === null) tally.skippedChanged++;
          else {
            tally.removed++;
            tally.removedBytes += Number(removed.size);
          }
        } catch (error) {
          noteFailure(tally, path, error);
        }
      };

      if (relative(located.root, located.path).split(sep).length > MAX_DEPTH) {
        throw new PermanentTaskError(`file_path ${payload.file_path} is more than ${MAX_DEPTH} folders below its cleanup root`);
      }
      const target = await openTarget(located.root, located.path);
      try {
        if (target.kind === 'gone') return { ...base, missing: true, ...summary(tally) };
        if (target.kind === 'other') tally.scanned++;
        else if (target.kind === 'file') await consider(target.folder, target.name, target.stats);
        else await walk(target.folder, target.depth, { tally, consider, signal: context.signal, budget: { left: maxEntries } });
      } finally {
        await target.close();
      }
      context.logger.info({ removed: tally.removed, matched: tally.matched, dryRun }, 'file cleanup finished');
      return { ...base, ...summary(tally) };
    },
  });
}

/** What the schema leaves to the handler, said plainly. */
function payloadProblem(payload: { file_path: string; pattern?: string }): string | null {
  if (payload.file_path.includes('\0')) return 'file_path must not contain a NUL character';
  if (payload.pattern?.includes('/')) return `pattern is matched against file names only, so it cannot contain "/" (got ${JSON.stringify(payload.pattern)})`;
  if (payload.pattern?.includes('\0')) return 'pattern must not contain a NUL character';
  return null;
}

/** The configured roots for an error message: relative ones with what they resolved to, refused ones with why. */
function describeRoots(configured: readonly string[], baseDir: string, roots: CleanupRoots): string {
  if (configured.length === 0) return '(none configured)';
  const listed = configured.map((root) => (isAbsolute(root) ? root : `${root} (${resolve(baseDir, root)})`)).join(', ');
  const refused = roots.refused.map(({ root, reason }) => `${root} ${reason}`);
  return refused.length === 0 ? listed : `${listed}; refused: ${refused.join('; ')}`;
}

type Target =
  | { kind: 'folder'; folder: PinnedDirectory; depth: number; close(): Promise<void> }
  | { kind: 'file'; folder: PinnedDirectory; name: string; stats: BigIntStats; close(): Promise<void> }
  | { kind: 'gone'; close(): Promise<void> }
  | { kind: 'other'; close(): Promise<void> };

/**
 * Opens the root, then each folder down to `path` (a real path inside it), each relative to the one
 * above and never through a symlink. realpath said there was none; one appearing now means the path is
 * being changed under us: that is an error (retried, when realpath will judge it anew), not a guess.
 */
async function openTarget(root: string, path: string): Promise<Target> {
  const opened: PinnedDirectory[] = [];
  const close = async () => {
    for (const folder of opened.reverse()) await folder.close();
  };
  const changed = () => new Error(`file_path ${path} changed while it was being opened (a folder or file was replaced); not cleaned`);
  try {
    opened.push(await PinnedDirectory.open(root));
    const parts = relative(root, path).split(sep).filter((part) => part !== '');
    for (const [index, part] of parts.entries()) {
      const folder = opened.at(-1)!;
      const stats = await folder.entry(part);
      if (stats === null) {
        await close();
        return { kind: 'gone', close: async () => {} };
      }
      if (index === parts.length - 1 && stats.isFile()) return { kind: 'file', folder, name: part, stats, close };
      if (index === parts.length - 1 && !stats.isDirectory() && !stats.isSymbolicLink()) return { kind: 'other', close }; // a socket, a FIFO
      const child = stats.isDirectory() ? await folder.child(part, stats) : 'changed';
      if (child === 'changed') throw changed();
      opened.push(child);
    }
    return { kind: 'folder', folder: opened.at(-1)!, depth: parts.length, close };
  } catch (error) {
    await close();
    throw error;
  }
}

interface Walk {
  tally: Tally;
  consider(folder: PinnedDirectory, name: string, stats: BigIntStats): Promise<void>;
  signal: AbortSignal;
  /** Directory entries this task may still look at. */
  budget: { left: number };
}

/** Files first, then each subfolder, opened relative to its open parent and still the folder that was listed. */
async function walk(folder: PinnedDirectory, depth: number, work: Walk): Promise<void> {
  const { tally } = work;
  let names: string[];
  try {
    names = await folder.names();
  } catch (error) {
    noteFailure(tally, folder.path, error);
    return;
  }
  const subfolders: [string, BigIntStats][] = [];
  for (const name of names) {
    if (work.signal.aborted) throw work.signal.reason;
    if (work.budget.left-- <= 0) {
      tally.incomplete = true;
      return;
    }
    let stats: BigIntStats | null;
    try {
      stats = await folder.entry(name);
    } catch (error) {
      noteFailure(tally, join(folder.path, name), error);
      if (error instanceof DirectoryChangedError) return;
      continue;
    }
    if (stats === null) continue;
    if (stats.isSymbolicLink()) tally.skippedSymlinks++;
    else if (stats.isDirectory()) subfolders.push([name, stats]);
    else if (stats.isFile()) await work.consider(folder, name, stats);
  }
  for (const [name, seen] of subfolders) {
    if (depth + 1 >= MAX_DEPTH) {
      tally.incomplete = true;
      continue;
    }
    let child: PinnedDirectory | 'changed';
    try {
      child = await folder.child(name, seen);
    } catch (error) {
      noteFailure(tally, join(folder.path, name), error);
      if (error instanceof DirectoryChangedError) return;
      continue;
    }
    if (child === 'changed') {
      tally.skippedChanged++;
      continue;
    }
    try {
      await walk(child, depth + 1, work);
    } finally {
      await child.close();
    }
  }
}

/** A file or folder that vanished or changed under us is skipped and counted; anything else is an error sample. */
function noteFailure(tally: Tally, path: string, error: unknown): void {
  if (error instanceof DirectoryChangedError || (error as NodeJS.ErrnoException).code === 'ENOENT') tally.skippedChanged++;
  else recordError(tally, path, error);
}

function recordError(tally: Tally, path: string, error: unknown): void {
  tally.errorCount++;
  if (tally.errors.length < 10) tally.errors.push(`${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
}

function summary(tally: Tally): JsonObject {
  return {
    scanned_files: tally.scanned,
    matched_files: tally.matched,
    matched_bytes: tally.matchedBytes,
    removed_files: tally.removed,
    removed_bytes: tally.removedBytes,
    files: tally.files,
    files_truncated: tally.matched > tally.files.length,
    skipped_symlinks: tally.skippedSymlinks,
    skipped_changed: tally.skippedChanged,
    errors: tally.errorCount,
    error_samples: tally.errors,
    incomplete: tally.incomplete,
  };
}
