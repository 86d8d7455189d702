import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Opens a directory itself, never a symlink to one (a symlink fails with ELOOP). */
const DIRECTORY_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NOFOLLOW ?? 0);
/** Linux names each open file descriptor here; the kernel resolves such a path to the open directory itself. */
const PROC_FD = '/proc/self/fd';

/** The folder was replaced (by a symlink or another folder) after it was checked: nothing more is done in it. */
export class DirectoryChangedError extends Error {
  constructor(path: string) {
    super(`${path} changed while it was being cleaned`);
    this.name = 'DirectoryChangedError';
  }
}

export const sameInode = (a: BigIntStats, b: BigIntStats): boolean => a.dev === b.dev && a.ino === b.ino;

/**
 * An open directory that file_cleanup works in: what it lists, checks and deletes is in this very
 * directory, however its path is changed meanwhile. Node has no openat/unlinkat, so on Linux every
 * operation goes through `/proc/self/fd/<fd>/<name>`: the kernel follows that link to the directory
 * the descriptor holds, never re-reading the path, which gives the *at calls' guarantee. Children are
 * opened the same way with O_NOFOLLOW, so a walk from a root never leaves it through a symlink.
 *
 * What remains on Linux: an entry of an open folder may be replaced between its last lstat and the
 * unlink, but only by another entry of that same folder (inside the root), and a symlink is removed
 * itself. A folder that someone able to write both inside and outside the root moves out while it is
 * being cleaned is still cleaned; they could delete those files themselves.
 *
 * Where /proc/self/fd does not name directories (not Linux), operations go by path, and before each
 * one every folder from the root down is lstat-ed and must still be the same directory (device and
 * inode; the open descriptors keep those inodes from being reused). There a swap in the instant
 * between that check and the call remains possible: the racer of the tests, swapping about 20,000
 * times a second, got 1 to 3 of 20 outside files deleted in 10 s that way (none through /proc).
 */
export class PinnedDirectory {
  readonly path: string;
  readonly #handle: FileHandle;
  readonly #id: BigIntStats;
  readonly #parent: PinnedDirectory | null;
  readonly #viaProc: boolean;

  private constructor(path: string, handle: FileHandle, id: BigIntStats, parent: PinnedDirectory | null, viaProc: boolean) {
    this.path = path;
    this.#handle = handle;
    this.#id = id;
    this.#parent = parent;
    this.#viaProc = viaProc;
  }

  /**
   * Opens `path` (whose last component must not be a symlink; the folders above it are the
   * operator's). `viaProc` forces a mode (tests); by default /proc is used where it works.
   */
  static async open(path: string, options: { viaProc?: boolean } = {}): Promise<PinnedDirectory> {
    const handle = await open(path, DIRECTORY_FLAGS);
    try {
      const id = await handle.stat({ bigint: true });
      const viaProc = options.viaProc ?? (await procNamesDescriptor(handle, id));
      return new PinnedDirectory(path, handle, id, null, viaProc);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** The child folder `name`, if it is still the directory `seen` (what lstat said when it was listed). */
  async child(name: string, seen: BigIntStats): Promise<PinnedDirectory | 'changed'> {
    await this.#verify();
    let handle: FileHandle;
    try {
      handle = await open(this.#entry(name), DIRECTORY_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') return 'changed';
      throw error;
    }
    try {
      const id = await handle.stat({ bigint: true });
      if (sameInode(id, seen)) return new PinnedDirectory(join(this.path, name), handle, id, this, this.#viaProc);
    } catch (error) {
      await handle.close();
      throw error;
    }
    await handle.close();
    return 'changed';
  }

  /** The names in this directory. */
  async names(): Promise<string[]> {
    await this.#verify();
    return readdir(this.#ref());
  }

  /** lstat of the entry `name` (never following it), or null when it is gone. */
  async entry(name: string): Promise<BigIntStats | null> {
    await this.#verify();
    try {
      return await lstat(this.#entry(name), { bigint: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /**
   * Unlinks the entry `name` if, looked at again just now, `eligible` still holds for it; returns what
   * was removed. unlink never follows the last component: a symlink put in its place would itself be
   * removed, never its target, and only ever an entry of this directory.
   */
  async remove(name: string, eligible: (now: BigIntStats) => boolean): Promise<BigIntStats | null> {
    const now = await this.entry(name);
    if (now === null || !eligible(now)) return null;
    await this.#verify();
    await unlink(this.#entry(name));
    return now;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }

  #ref(): string {
    return this.#viaProc ? `${PROC_FD}/${this.#handle.fd}` : this.path;
  }

  #entry(name: string): string {
    return `${this.#ref()}/${name}`;
  }

  /** By path only: every folder from the root down to this one must still be the one opened. */
  async #verify(): Promise<void> {
    if (this.#viaProc) return;
    for (let folder: PinnedDirectory | null = this; folder !== null; folder = folder.#parent) {
      const now = await lstat(folder.path, { bigint: true }).catch(() => null);
      if (now === null || !now.isDirectory() || !sameInode(now, folder.#id)) throw new DirectoryChangedError(folder.path);
    }
  }
}

/** Whether /proc/self/fd/<fd> leads to the very directory `handle` holds (Linux with /proc mounted). */
async function procNamesDescriptor(handle: FileHandle, id: BigIntStats): Promise<boolean> {
  try {
    return sameInode(await stat(`${PROC_FD}/${handle.fd}`, { bigint: true }), id);
  } catch {
    return false;
  }
}
