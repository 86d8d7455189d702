import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every process a test spawns, written down so that it dies with its test even when the test fails
 * or its own cleanup never runs. Each is started in a process group of its own (detached), so one
 * SIGKILL to the group takes its children too (`conveyor start`'s workers, a shell script's server).
 *
 * The registry is a folder of files, one per process group, in the run's folder (test-run.ts), so
 * that three parties can read it: the test file's process (after the file's tests, and when it
 * exits), and the run's global teardown, which kills whatever a crashed test process left behind.
 */

/** The environment variable naming the run's folder; set by the global setup, inherited by the test processes. */
export const RUN_DIR_VARIABLE = 'CONVEYOR_TEST_RUN_DIR';

interface Entry {
  /** The process group id (the leader's pid). */
  pgid: number;
  /** The leader's start time (in clock ticks since boot), so that a reused pid is never mistaken for ours. */
  startTime: string | null;
  /** The test process that spawned it. */
  owner: number;
  command: string;
}

/**
 * The groups this process spawned, also when no registry folder exists (a helper used outside vitest).
 * Kept on globalThis: a test process that runs several files loads this module once per file.
 */
const SPAWNED = Symbol.for('conveyor.test.spawned-process-groups');
const holder = globalThis as { [SPAWNED]?: Map<number, Entry> };
const firstLoad = holder[SPAWNED] === undefined;
const spawnedHere: Map<number, Entry> = (holder[SPAWNED] ??= new Map());

function registryDir(runDir = process.env[RUN_DIR_VARIABLE]): string | null {
  return runDir ? join(runDir, 'processes') : null;
}

/** A process's start time from /proc (field 22 of stat), or null when it is gone. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Like child_process.spawn (same overloads), but in its own process group and registered until the test file ends. */
export const spawnTracked = ((command: string, argsOrOptions?: readonly string[] | SpawnOptions, maybeOptions?: SpawnOptions): ChildProcess => {
  const args = Array.isArray(argsOrOptions) ? argsOrOptions : [];
  const options = (Array.isArray(argsOrOptions) ? maybeOptions : argsOrOptions) ?? {};
  const child = spawn(command, args, { ...options, detached: true });
  const pid = child.pid;
  if (pid === undefined) return child; // spawn failed; the 'error' event says why
  const entry: Entry = { pgid: pid, startTime: processStartTime(pid), owner: process.pid, command: [command, ...args].join(' ').slice(0, 500) };
  spawnedHere.set(pid, entry);
  const dir = registryDir();
  if (dir) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, String(pid)), JSON.stringify(entry));
  }
  return child;
}) as typeof spawn;

/** SIGKILL to a whole process group, unless its leader's pid now belongs to some other process. */
export function killGroup(pgid: number, startTime: string | null): void {
  const now = processStartTime(pgid);
  // The pid is in use by a process that started at another time: ours are all gone (Linux never
  // reuses a pid while a group of that id has members), so this group is someone else's.
  if (now !== null && startTime !== null && now !== startTime) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** Kills every group this test process spawned (after a test file, and on exit: synchronous). */
export function killSpawnedHere(): void {
  const dir = registryDir();
  for (const entry of spawnedHere.values()) {
    killGroup(entry.pgid, entry.startTime);
    if (dir) rmSync(join(dir, String(entry.pgid)), { force: true });
  }
  spawnedHere.clear();
}

/** Kills every group in a run's registry, whoever spawned it (the global teardown, and stale runs). */
export function killRegistered(runDir: string): number {
  const dir = registryDir(runDir)!;
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const file of files) {
    try {
      const entry = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Entry;
      killGroup(entry.pgid, entry.startTime);
    } catch {
      // A half-written entry: its process was registered after the spawn, so the pid is the file's name.
      if (/^\d+$/.test(file)) killGroup(Number(file), null);
    }
    rmSync(join(dir, file), { force: true });
  }
  return files.length;
}

// A test process that ends (normally, or by an uncaught error) takes its processes with it.
if (firstLoad) process.once('exit', killSpawnedHere);
