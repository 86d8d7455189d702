import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Writes a file so that readers see either nothing or the whole file: the bytes go to a temporary
 * name in the same folder, then one rename puts them in place. A retried task overwrites its own
 * earlier file the same way.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  const temporary = join(folder, `.tmp-${randomBytes(8).toString('hex')}`);
  try {
    await writeFile(temporary, data, { flag: 'wx', mode: 0o640 });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
