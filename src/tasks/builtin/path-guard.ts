import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { dirname, join, parse, resolve, sep } from 'node:path';

/**
 * Where file_cleanup may delete: inside an admin-configured root, judged on real paths (symlinks and
 * `..` resolved by the file system, not by string tricks), so neither `../`, nor an absolute path
 * elsewhere, nor a symlink pointing out gets a task outside its roots.
 */

/** Never a root: the file system's root, system folders, and anything inside the ones marked so. */
const SYSTEM_FOLDERS = ['/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/root', '/run', '/sbin', '/sys', '/usr', '/var'];
const SYSTEM_TREES = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/sbin', '/sys', '/usr'];

/**
 * The roots when none are configured, created if missing: uploads and reports under the data folder
 * (the README's schedule cleans ./data/reports) and /tmp/uploads (the guide's example). One that cannot be
 * made stays listed: resolveRoots then counts it missing or refused, with the reason.
 */
export function defaultCleanupRoots(dataDir: string): string[] {
  const roots = [join(dataDir, 'uploads'), join(dataDir, 'reports'), '/tmp/uploads'];
  for (const root of roots) {
    try {
      mkdirSync(root, { recursive: true });
    } catch {
      // resolveRoots says why
    }
  }
  return roots;
}

export interface CleanupRoots {
  /** Real paths of the configured roots that exist and are allowed. */
  usable: string[];
  /** Absolute paths of configured roots that do not exist (yet): a path under them has nothing to clean. */
  missing: string[];
  refused: { root: string; reason: string }[];
}

/**
 * Resolves each configured root to its real path, a relative one against `baseDir` (the process's
 * working directory, as every other relative path of the configuration), refusing `/`, system
 * folders, and a folder in a shared sticky folder such as /tmp that another user owns (anyone may
 * create /tmp/uploads first). Synchronous: it runs once at start-up.
 */
export function resolveRoots(roots: readonly string[], baseDir: string, uid = process.getuid?.()): CleanupRoots {
  const result: CleanupRoots = { usable: [], missing: [], refused: [] };
  for (const root of roots) {
    const absolute = resolve(baseDir, root);
    let real: string;
    try {
      real = realpathSync(absolute);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') result.missing.push(absolute);
      else result.refused.push({ root, reason: (error as Error).message });
      continue;
    }
    const reason = systemFolderReason(real) ?? ownerReason(real, uid);
    if (reason !== null) result.refused.push({ root, reason });
    else result.usable.push(real);
  }
  return result;
}

/** Why a root in a world-writable sticky folder (/tmp) is refused: another user made it, so they control it. */
function ownerReason(real: string, uid: number | undefined): string | null {
  if (uid === undefined) return null;
  try {
    const shared = (lstatSync(dirname(real)).mode & 0o1002) === 0o1002; // sticky and writable by everyone
    if (!shared || lstatSync(real).uid === uid) return null;
    return `belongs to another user inside the shared folder ${dirname(real)}`;
  } catch (error) {
    return `cannot be checked: ${(error as Error).message}`;
  }
}

function systemFolderReason(real: string): string | null {
  if (parse(real).root === real) return 'is the root of the file system';
  if (SYSTEM_FOLDERS.includes(real)) return 'is a system folder';
  if (SYSTEM_TREES.some((tree) => isInside(real, tree))) return 'is inside a system folder';
  return null;
}

export type Located = { kind: 'found'; path: string; root: string } | { kind: 'missing'; path: string } | { kind: 'outside'; path: string };

/**
 * Where a requested path really is. `found`: its real path lies in a usable root. `missing`: it does
 * not exist, and would lie in a root; nothing to do. `outside`: anywhere else.
 */
export async function locate(requested: string, roots: CleanupRoots): Promise<Located> {
  const path = resolve(requested); // `..` is resolved by the text: root/link/.. stays in root, whatever link is
  let real: string;
  try {
    real = await realpath(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    const inside = [...roots.usable, ...roots.missing].some((root) => isInside(path, root));
    return inside ? { kind: 'missing', path } : { kind: 'outside', path };
  }
  const root = roots.usable.find((candidate) => isInside(real, candidate));
  return root === undefined ? { kind: 'outside', path: real } : { kind: 'found', path: real, root };
}

/** `child` is `parent` or lies below it (whole path segments: /data2 is not inside /data). */
export function isInside(child: string, parent: string): boolean {
  if (child === parent) return true;
  return child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}
