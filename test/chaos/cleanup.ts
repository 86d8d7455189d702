import { rmSync } from 'node:fs';

/**
 * What the suite must leave behind: nothing. Every process group it starts and every temporary folder
 * it makes is registered here; `cleanupNow` (also run on Ctrl-C and on exit) kills the groups and
 * removes the folders, so an interrupted run leaves no worker spinning.
 */
const groups = new Set<number>();
const dirs = new Set<string>();

export function trackGroup(pid: number): void {
  groups.add(pid);
}

export function untrackGroup(pid: number): void {
  groups.delete(pid);
}

export function trackDir(dir: string): void {
  dirs.add(dir);
}

/** SIGKILLs every process group still tracked (SIGCONT first: a stopped process must die too). */
export function killTrackedGroups(): void {
  for (const pid of groups) {
    for (const signal of ['SIGCONT', 'SIGKILL'] as const) {
      try {
        process.kill(-pid, signal);
      } catch {
        // already gone
      }
    }
  }
  groups.clear();
}

export function removeTrackedDirs(): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

export function cleanupNow(): void {
  killTrackedGroups();
  removeTrackedDirs();
}

let installed = false;
/** Cleans up on exit and on SIGINT/SIGTERM of the suite itself. */
export function installCleanupHooks(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`chaos: ${signal}: killing every process started and removing temporary folders\n`);
      cleanupNow();
      process.exit(130);
    });
  }
}
