import { realpath, stat } from 'node:fs/promises';
import { basename, extname, join, relative, isAbsolute, resolve } from 'node:path';
import type { TaskRecord } from '../core/task.ts';

export interface Artifact {
  /** The file's real path, inside the reports folder. */
  path: string;
  /** The name to download it as. */
  name: string;
  contentType: string;
  size: number;
}

const CONTENT_TYPES: Record<string, string> = {
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The file a completed task left in the reports folder (report_generation's output names it in
 * `file`), or null. The name must be a bare file name, and the file's real path (symlinks resolved)
 * must lie inside the folder's real path and be a regular file: a task's output is data a handler
 * wrote, so it is never trusted to point anywhere else.
 */
export async function taskArtifact(task: TaskRecord, artifactsDir: string | null): Promise<Artifact | null> {
  if (artifactsDir === null || task.status !== 'completed') return null;
  const output = task.output;
  if (output === null || typeof output !== 'object' || Array.isArray(output)) return null;
  const file = (output as Record<string, unknown>).file;
  if (typeof file !== 'string' || file === '' || file.includes('\0') || basename(file) !== file || file === '.' || file === '..') return null;
  try {
    const folder = await realpath(resolve(artifactsDir));
    const path = await realpath(join(folder, file));
    const inside = relative(folder, path);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return null;
    const info = await stat(path);
    if (!info.isFile()) return null;
    return { path, name: file, contentType: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', size: info.size };
  } catch {
    // Gone (pruned, deleted by hand) or unreadable: there is nothing to serve.
    return null;
  }
}
