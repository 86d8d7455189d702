import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { createFileCleanupTask } from '../../src/tasks/builtin/file-cleanup.ts';
import { DirectoryChangedError, PinnedDirectory } from '../../src/tasks/builtin/pinned-directory.ts';
import { spawnTracked } from '../helpers/process-registry.ts';
import { taskContext } from './builtin-context.ts';

/** How long the racer runs; CONVEYOR_CLEANUP_RACE_SECONDS=60 for the long run by hand. */
const RACE_SECONDS = Number(process.env.CONVEYOR_CLEANUP_RACE_SECONDS ?? 3);
const BAIT = Array.from({ length: 20 }, (_, index) => `file-${index}.tmp`);
const LONG_AGO = new Date('2000-01-01T00:00:00Z');

let base: string;
let uploads: string;
let bait: string;

function oldFile(path: string, content: string): void {
  writeFileSync(path, content);
  utimesSync(path, LONG_AGO, LONG_AGO);
}

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'conveyor-cleanup-race-')));
  uploads = join(base, 'root', 'uploads');
  bait = join(base, 'outside', 'bait');
  mkdirSync(join(uploads, 'swap'), { recursive: true });
  mkdirSync(bait, { recursive: true });
  // Outside the root, old, and named like the files in root/uploads/swap: what a swapped symlink would reach.
  for (const name of BAIT) oldFile(join(bait, name), 'outside the root');
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const baitLeft = () => readdirSync(bait).sort();

/**
 * The racer, a separate process so it really runs at the same time: it refills root/uploads/swap with
 * old files, then swaps that folder for a symlink to the bait folder and back, as fast as it can.
 */
const RACER = `
const fs = require('node:fs');
const { join } = require('node:path');
const [uploads, bait, seconds, ...names] = process.argv.slice(1);
const swap = join(uploads, 'swap'), aside = join(uploads, 'swap-aside');
const longAgo = new Date('2000-01-01T00:00:00Z');
const end = Date.now() + Number(seconds) * 1000;
let rounds = 0, swaps = 0;
const attempt = (step) => { try { step(); return true; } catch { return false; } };
while (Date.now() < end) {
  attempt(() => fs.lstatSync(swap).isSymbolicLink() && fs.unlinkSync(swap));
  attempt(() => fs.renameSync(aside, swap));
  attempt(() => fs.mkdirSync(swap));
  for (const name of names) attempt(() => { fs.writeFileSync(join(swap, name), 'inside the root'); fs.utimesSync(join(swap, name), longAgo, longAgo); });
  for (let i = 0; i < 200; i++) {
    if (!attempt(() => fs.renameSync(swap, aside))) break;
    attempt(() => fs.symlinkSync(bait, swap));
    swaps++;
    attempt(() => fs.unlinkSync(swap));
    if (!attempt(() => fs.renameSync(aside, swap))) break;
  }
  rounds++;
}
process.stdout.write(JSON.stringify({ rounds, swaps }));
`;

describe('file_cleanup against a folder swapped for a symlink', () => {
  it(`deletes nothing outside the root while a racer swaps a folder and a symlink (${RACE_SECONDS} s)`, async () => {
    const task = createFileCleanupTask({ roots: [join(base, 'root')] }, new ManualClock(Date.now()));
    const racer = spawnTracked(process.execPath, ['-e', RACER, uploads, bait, String(RACE_SECONDS), ...BAIT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let report = '';
    racer.stdout.on('data', (chunk: Buffer) => (report += chunk.toString()));
    let racing = true;
    const exited = new Promise<number | null>((resolve) => racer.on('exit', (code) => {
      racing = false;
      resolve(code);
    }));
    let runs = 0;
    let removed = 0;
    while (racing) {
      const output = (await task.handler({ file_path: join(uploads), max_age_hours: 1 }, taskContext())) as { removed_files: number };
      runs++;
      removed += output.removed_files;
      expect(baitLeft()).toEqual([...BAIT].sort()); // checked after every run, so the first loss is caught
    }
    expect(await exited).toBe(0);
    const { rounds, swaps } = JSON.parse(report) as { rounds: number; swaps: number };
    console.info(`file_cleanup race: ${RACE_SECONDS} s, ${runs} cleanup runs, ${removed} files removed inside the root, racer ${rounds} refills and ${swaps} swaps, bait files left ${baitLeft().length}/${BAIT.length}`);
    expect(swaps).toBeGreaterThan(0);
    expect(removed).toBeGreaterThan(0); // the cleanup really ran against the racer's files
    expect(baitLeft()).toEqual([...BAIT].sort());
  }, (RACE_SECONDS + 60) * 1000);

  it('an open folder stays itself: after it is swapped for a symlink, removal happens in the real folder (Linux /proc)', async () => {
    const folder = await PinnedDirectory.open(join(uploads, 'swap'), { viaProc: true });
    try {
      oldFile(join(uploads, 'swap', BAIT[0]!), 'inside the root');
      renameSync(join(uploads, 'swap'), join(uploads, 'moved'));
      symlinkSync(bait, join(uploads, 'swap'));
      expect(await folder.names()).toEqual([BAIT[0]]);
      expect(await folder.remove(BAIT[0]!, (now) => now.isFile())).not.toBeNull();
      expect(existsSync(join(uploads, 'moved', BAIT[0]!))).toBe(false);
      expect(baitLeft()).toEqual([...BAIT].sort());
    } finally {
      await folder.close();
    }
  });

  it('by path (no /proc), a folder swapped for a symlink is refused before anything is done in it', async () => {
    const root = await PinnedDirectory.open(uploads, { viaProc: false });
    try {
      const seen = (await root.entry('swap'))!;
      const folder = await root.child('swap', seen);
      if (folder === 'changed') throw new Error('the folder was not opened');
      renameSync(join(uploads, 'swap'), join(uploads, 'moved'));
      symlinkSync(bait, join(uploads, 'swap'));
      await expect(folder.names()).rejects.toBeInstanceOf(DirectoryChangedError);
      await expect(folder.remove(BAIT[0]!, () => true)).rejects.toBeInstanceOf(DirectoryChangedError);
      await folder.close();
      expect(await root.child('swap', seen)).toBe('changed'); // O_NOFOLLOW: never opened through the symlink
      expect(baitLeft()).toEqual([...BAIT].sort());
    } finally {
      await root.close();
    }
  });
});
