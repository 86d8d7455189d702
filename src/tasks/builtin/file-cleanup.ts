import { lstat, readdir, realpath, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, relative } from 'node:path';
import { Type } from '@sinclair/typebox';
import { systemClock, type Clock } from '../../core/clock.ts';
import type { JsonObject } from '../../core/task.ts';
import { PermanentTaskError } from '../../core/task-errors.ts';
import { defineTask, type TaskDefinition } from '../define-task.ts';
import { isInside, locate, resolveRoots } from './path-guard.ts';

export interface FileCleanupSettings {
  /** The only folders file_cleanup may delete in (and below). */
  roots: string[];
}

/** How many file names the output lists; the counts cover all of them. */
export const LISTED_FILES_LIMIT = 100;
const MAX_DEPTH = 64;
const MAX_ENTRIES = 1_000_000;
const HOUR_MS = 3_600_000;

const FileCleanupPayload = Type.Object(
  {
    file_path: Type.String({ minLength: 1, maxLength: 4096, pattern: '^/[^\\x00]*$', description: 'An absolute path inside one of the configured roots' }),
    max_age_hours: Type.Number({ minimum: 0, maximum: 87_600, description: 'Delete files last modified longer ago than this' }),
    dry_run: Type.Optional(Type.Boolean({ description: 'Report what would be deleted, delete nothing' })),
    pattern: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[^/\\x00]+$', description: 'Only file names matching this glob (* and ?)' })),
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
 * really (after realpath) lie inside a configured root. The walk uses lstat and never follows a
 * symlink; a folder is entered only if its real path is still itself; folders are never removed.
 * Just before each unlink the folder and the file are lstat-ed again and must still be the same
 * (device and inode), the file still old enough.
 */
export function createFileCleanupTask(settings: FileCleanupSettings, clock: Clock = systemClock): TaskDefinition<typeof FileCleanupPayload> {
  return defineTask({
    name: 'file_cleanup',
    description: 'Deletes files older than max_age_hours under a path inside the configured cleanup roots (never follows symlinks).',
    payload: FileCleanupPayload,
    examples: [
      { file_path: '/tmp/uploads', max_age_hours: 24 },
      { file_path: '/tmp/uploads', max_age_hours: 168, pattern: '*.tmp', dry_run: true },
    ],
    timeoutMs: 600_000,
    async handler(payload, context) {
      const roots = await resolveRoots(settings.roots);
      const rootList = settings.roots.length === 0 ? '(none configured)' : settings.roots.join(', ');
      const located = await locate(payload.file_path, roots);
      if (located.kind === 'outside') {
        throw new PermanentTaskError(`file_path ${payload.file_path} is outside the allowed cleanup roots: ${rootList}`);
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
      const consider = async (path: string, stats: Stats, folder: Folder | null) => {
        tally.scanned++;
        if (!matches(path.slice(path.lastIndexOf('/') + 1)) || stats.mtimeMs >= cutoffMs) return;
        tally.matched++;
        tally.matchedBytes += stats.size;
        if (tally.files.length < LISTED_FILES_LIMIT) tally.files.push(relative(located.root, path) || path);
        if (!dryRun) await removeIfUnchanged(path, stats, folder, cutoffMs, tally);
      };

      const top = await lstat(located.path);
      if (top.isFile()) await consider(located.path, top, null);
      else if (top.isDirectory()) await walk({ path: located.path, stats: top }, located.root, consider, tally, context.signal);
      context.logger.info({ removed: tally.removed, matched: tally.matched, dryRun }, 'file cleanup finished');
      return { ...base, ...summary(tally) };
    },
  });
}

/** A folder of the walk and what lstat said it was when it was found. */
interface Folder {
  path: string;
  stats: Stats;
}

async function walk(start: Folder, root: string, consider: (path: string, stats: Stats, folder: Folder) => Promise<void>, tally: Tally, signal: AbortSignal): Promise<void> {
  const stack: { folder: Folder; depth: number }[] = [{ folder: start, depth: 0 }];
  let entries = 0;
  while (stack.length > 0) {
    const { folder, depth } = stack.pop()!;
    const dir = folder.path;
    // A folder swapped for a symlink after it was listed must not be entered.
    let real: string;
    try {
      real = await realpath(dir);
    } catch (error) {
      recordError(tally, dir, error);
      continue;
    }
    if (real !== dir || !isInside(real, root)) {
      tally.skippedSymlinks++;
      continue;
    }
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      recordError(tally, dir, error);
      continue;
    }
    for (const name of names) {
      if (signal.aborted) throw signal.reason;
      if (++entries > MAX_ENTRIES) {
        tally.incomplete = true;
        return;
      }
      const path = join(dir, name);
      let stats: Stats;
      try {
        stats = await lstat(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') recordError(tally, path, error);
        continue;
      }
      if (stats.isSymbolicLink()) tally.skippedSymlinks++;
      else if (stats.isDirectory()) {
        if (depth + 1 < MAX_DEPTH) stack.push({ folder: { path, stats }, depth: depth + 1 });
        else tally.incomplete = true;
      } else if (stats.isFile()) await consider(path, stats, folder);
    }
  }
}

/**
 * Node has no unlinkat, so a path is all there is: just before unlinking, the folder must still be the
 * very folder that was listed (not a symlink swapped in since, which would send the unlink elsewhere)
 * and the file the very file that was judged. A swap in the instant between these checks and the
 * unlink remains possible; running the worker as an unprivileged user bounds what that could reach.
 */
async function removeIfUnchanged(path: string, seen: Stats, folder: Folder | null, cutoffMs: number, tally: Tally): Promise<void> {
  try {
    if (folder !== null && !sameFolder(await lstat(folder.path), folder.stats)) {
      tally.skippedChanged++;
      return;
    }
    const now = await lstat(path);
    if (!now.isFile() || now.dev !== seen.dev || now.ino !== seen.ino || now.mtimeMs >= cutoffMs) {
      tally.skippedChanged++;
      return;
    }
    await unlink(path);
    tally.removed++;
    tally.removedBytes += now.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') tally.skippedChanged++;
    else recordError(tally, path, error);
  }
}

function sameFolder(now: Stats, seen: Stats): boolean {
  return now.isDirectory() && now.dev === seen.dev && now.ino === seen.ino;
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

/** A file-name glob: `*` any run of characters, `?` one character, everything else literal. */
export function globMatcher(pattern: string): (name: string) => boolean {
  const source = [...pattern].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  const regex = new RegExp(`^${source}$`, 's');
  return (name) => regex.test(name);
}
