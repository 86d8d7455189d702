import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { PermanentTaskError } from '../../src/core/task-errors.ts';
import { createFileCleanupTask } from '../../src/tasks/builtin/file-cleanup.ts';
import { globMatcher } from '../../src/tasks/builtin/name-glob.ts';
import { defaultCleanupRoots, resolveRoots } from '../../src/tasks/builtin/path-guard.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { taskContext } from './builtin-context.ts';

const NOW = Date.UTC(2026, 0, 10);
const HOUR = 3_600_000;

let base: string;
let root: string;
let outside: string;
let canaries: Map<string, string>;

/** A file with content and a modification time `ageHours` before NOW. */
function file(path: string, ageHours: number, content = `content of ${path}`): string {
  writeFileSync(path, content);
  const at = new Date(NOW - ageHours * HOUR);
  utimesSync(path, at, at);
  return path;
}

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'conveyor-cleanup-')));
  root = join(base, 'root');
  outside = join(base, 'outside');
  mkdirSync(join(root, 'uploads', 'nested'), { recursive: true });
  mkdirSync(join(outside, 'secrets'), { recursive: true });
  // Canaries: old files outside the root, which no payload may touch.
  canaries = new Map();
  for (const path of [join(outside, 'canary.txt'), join(outside, 'secrets', 'key.pem'), join(base, 'sibling.txt')]) {
    file(path, 1000);
    canaries.set(path, readFileSync(path, 'utf8'));
  }
  file(join(root, 'uploads', 'old.tmp'), 48);
  file(join(root, 'uploads', 'old.log'), 30);
  file(join(root, 'uploads', 'fresh.tmp'), 1);
  file(join(root, 'uploads', 'nested', 'older.tmp'), 100);
  // Symlinks inside the root that point out: never followed, never removed through.
  symlinkSync(outside, join(root, 'uploads', 'link-out'));
  symlinkSync(join(outside, 'canary.txt'), join(root, 'uploads', 'canary-link.tmp'));
  symlinkSync(outside, join(root, 'escape'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

function expectCanariesIntact(): void {
  for (const [path, content] of canaries) {
    expect(existsSync(path), path).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(content);
  }
}

const task = (roots = [root]) => createFileCleanupTask({ roots }, new ManualClock(NOW));
type Output = { removed_files: number; removed_bytes: number; matched_files: number; files: string[]; skipped_symlinks: number; missing?: boolean; dry_run: boolean };
const run = async (payload: Parameters<ReturnType<typeof task>['handler']>[0], roots?: string[]) => (await task(roots).handler(payload, taskContext())) as Output;

describe('file_cleanup', () => {
  it('deletes old regular files under the path, keeps fresh ones, never follows symlinks', async () => {
    const output = await run({ file_path: join(root, 'uploads'), max_age_hours: 24 });
    expect(output.removed_files).toBe(3);
    expect(output.files.sort()).toEqual(['uploads/nested/older.tmp', 'uploads/old.log', 'uploads/old.tmp']);
    expect(output.removed_bytes).toBeGreaterThan(0);
    expect(output.skipped_symlinks).toBe(2);
    expect(existsSync(join(root, 'uploads', 'fresh.tmp'))).toBe(true);
    expect(existsSync(join(root, 'uploads', 'old.tmp'))).toBe(false);
    expect(existsSync(join(root, 'uploads', 'nested'))).toBe(true); // folders stay
    expect(existsSync(join(root, 'uploads', 'link-out'))).toBe(true);
    expectCanariesIntact();
  });

  it('reports without deleting in a dry run, and filters by a name pattern', async () => {
    const dry = await run({ file_path: join(root, 'uploads'), max_age_hours: 24, dry_run: true, pattern: '*.tmp' });
    expect(dry).toMatchObject({ dry_run: true, matched_files: 2, removed_files: 0 });
    expect(existsSync(join(root, 'uploads', 'old.tmp'))).toBe(true);
    const real = await run({ file_path: join(root, 'uploads'), max_age_hours: 24, pattern: '*.tmp' });
    expect(real.removed_files).toBe(2);
    expect(existsSync(join(root, 'uploads', 'old.log'))).toBe(true);
    expectCanariesIntact();
  });

  it.each([
    ['../ out of the root', () => join(root, '..', 'outside')],
    ['../ deep', () => `${root}/uploads/../../outside/secrets`],
    ['an absolute path elsewhere', () => outside],
    ['/etc', () => '/etc'],
    ['/', () => '/'],
    ['a symlinked folder pointing out', () => join(root, 'escape')],
    ['a path through a symlink', () => join(root, 'uploads', 'link-out', 'secrets')],
    ['a symlinked file pointing out', () => join(root, 'uploads', 'canary-link.tmp')],
    ['a sibling whose name starts like the root', () => `${root}-evil`],
  ])('refuses %s permanently, naming the roots; canaries untouched', async (_name, path) => {
    mkdirSync(`${root}-evil`, { recursive: true });
    const attempt = run({ file_path: path(), max_age_hours: 0 });
    await expect(attempt).rejects.toBeInstanceOf(PermanentTaskError);
    await expect(attempt).rejects.toThrow(`outside the allowed cleanup roots: ${root}`);
    expectCanariesIntact();
  });

  it('takes encoded dots literally: %2e%2e is a name, not a parent', async () => {
    const output = await run({ file_path: `${root}/%2e%2e/outside`, max_age_hours: 0 });
    expect(output).toMatchObject({ missing: true, removed_files: 0 });
    const encoded = run({ file_path: `${root}%2f%2e%2e%2foutside`, max_age_hours: 0 });
    await expect(encoded).rejects.toBeInstanceOf(PermanentTaskError);
    expectCanariesIntact();
  });

  it('refuses / and system folders as roots', async () => {
    const attempt = run({ file_path: outside, max_age_hours: 0 }, ['/', '/etc', '/usr/lib']);
    await expect(attempt).rejects.toThrow(/outside the allowed cleanup roots: \/, \/etc, \/usr\/lib/);
    expectCanariesIntact();
  });

  it('cleans a single old file inside the root, and completes on a missing path under a root', async () => {
    const single = await run({ file_path: join(root, 'uploads', 'old.log'), max_age_hours: 24 });
    expect(single.removed_files).toBe(1);
    expect(await run({ file_path: join(root, 'not-yet'), max_age_hours: 24 })).toMatchObject({ missing: true, removed_files: 0 });
    // A configured root that does not exist yet: a path under it has nothing to clean.
    expect(await run({ file_path: join(base, 'later', 'x'), max_age_hours: 1 }, [join(base, 'later')])).toMatchObject({ missing: true });
  });

  it('accepts a relative file_path (resolved against the working directory) and the guide example; other roots still fail it', async () => {
    const registry = new TaskRegistry().register(task());
    registry.validatePayload('file_cleanup', { file_path: '/tmp/uploads', max_age_hours: 24 });
    registry.validatePayload('file_cleanup', { file_path: './data/reports', max_age_hours: 168 });
    expect(() => registry.validatePayload('file_cleanup', { file_path: '/tmp', max_age_hours: -1 })).toThrow();
    await expect(run({ file_path: '/tmp/uploads', max_age_hours: 24 })).rejects.toThrow(`outside the allowed cleanup roots: ${root}`);
  });

  it('resolves relative roots and relative paths against the working directory; ../ out still fails', async () => {
    const relative = createFileCleanupTask({ roots: ['root/uploads'], baseDir: base }, new ManualClock(NOW));
    const output = (await relative.handler({ file_path: './root/uploads/nested', max_age_hours: 24 }, taskContext())) as Output;
    expect(output.removed_files).toBe(1);
    expect(existsSync(join(root, 'uploads', 'nested', 'older.tmp'))).toBe(false);
    const escape = relative.handler({ file_path: 'root/uploads/../../outside', max_age_hours: 0 }, taskContext());
    await expect(escape).rejects.toThrow(`outside the allowed cleanup roots: root/uploads (${join(root, 'uploads')})`);
    expectCanariesIntact();
  });

  it('makes the README schedule and the guide example work with the default roots', async () => {
    const roots = defaultCleanupRoots(join(base, 'data'));
    const defaults = createFileCleanupTask({ roots, baseDir: base }, new ManualClock(NOW));
    file(join(base, 'data', 'reports', 'january.csv'), 24 * 200);
    const readme = (await defaults.handler({ file_path: './data/reports', max_age_hours: 168 }, taskContext())) as Output;
    expect(readme).toMatchObject({ removed_files: 1, files: ['january.csv'] });
    // /tmp/uploads is shared with the machine: only look.
    const guide = (await defaults.handler({ file_path: '/tmp/uploads', max_age_hours: 24, dry_run: true }, taskContext())) as Output;
    expect(guide).toMatchObject({ dry_run: true, removed_files: 0 });
  });

  it('refuses a root in a shared sticky folder that another user owns (anyone could have made it first)', () => {
    const shared = join(base, 'shared');
    mkdirSync(join(shared, 'uploads'), { recursive: true });
    chmodSync(shared, 0o1777);
    const owner = statSync(join(shared, 'uploads')).uid;
    expect(resolveRoots([join(shared, 'uploads')], base, owner).usable).toEqual([join(shared, 'uploads')]);
    expect(resolveRoots([join(shared, 'uploads')], base, owner + 1).refused).toEqual([
      { root: join(shared, 'uploads'), reason: `belongs to another user inside the shared folder ${shared}` },
    ]);
  });

  it('refuses a pattern with / or a NUL in a path permanently, saying why', async () => {
    const slash = run({ file_path: root, max_age_hours: 1, pattern: '../*' });
    await expect(slash).rejects.toBeInstanceOf(PermanentTaskError);
    await expect(slash).rejects.toThrow('pattern is matched against file names only, so it cannot contain "/"');
    await expect(run({ file_path: `${root}/\0x`, max_age_hours: 1 })).rejects.toThrow('file_path must not contain a NUL character');
    expectCanariesIntact();
  });

  it('completes a pattern built to backtrack (****************! over a 40-character name, *a*a...! over 250 a)', async () => {
    file(join(root, 'uploads', 'a'.repeat(40)), 48);
    file(join(root, 'uploads', 'a'.repeat(250)), 48);
    for (const pattern of ['****************!', `${'*a'.repeat(127)}!`, `${'?*'.repeat(127)}!`]) {
      const output = await run({ file_path: join(root, 'uploads'), max_age_hours: 24, pattern });
      expect(output).toMatchObject({ matched_files: 0, removed_files: 0 });
    }
    expect(globMatcher(`${'*a'.repeat(127)}*`)('a'.repeat(126))).toBe(false);
    expect(globMatcher(`${'*a'.repeat(127)}*`)('a'.repeat(127))).toBe(true);
  });

  it('stops after the entries it may visit and says the result is incomplete', async () => {
    const limited = createFileCleanupTask({ roots: [root], maxEntries: 2 }, new ManualClock(NOW));
    const output = (await limited.handler({ file_path: join(root, 'uploads'), max_age_hours: 24, dry_run: true }, taskContext())) as Output & { incomplete: boolean };
    expect(output.incomplete).toBe(true);
    expect(output.matched_files).toBeLessThanOrEqual(2);
  });

  it('matches simple globs on the file name only', () => {
    expect(globMatcher('*.tmp')('a.tmp')).toBe(true);
    expect(globMatcher('*.tmp')('a.tmpx')).toBe(false);
    expect(globMatcher('log-?.txt')('log-1.txt')).toBe(true);
    expect(globMatcher('log-?.txt')('log-12.txt')).toBe(false);
    expect(globMatcher('a.b')('axb')).toBe(false);
    expect(globMatcher('(x)+[y]')('(x)+[y]')).toBe(true);
    expect(globMatcher('a*b*c')('aXbYbZc')).toBe(true);
    expect(globMatcher('a*b*c')('aXbYbZ')).toBe(false);
    expect(globMatcher('*')('')).toBe(true);
    expect(globMatcher('?')('é')).toBe(true);
    expect(globMatcher('??')('😀')).toBe(false);
    expect(globMatcher('\\*.tmp')('\\x.tmp')).toBe(true);
  });
});
