import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killRegistered, processStartTime } from './process-registry.ts';

/**
 * One folder per test run, under the machine's temporary folder, holding everything the run leaves
 * on disk: the global setup points TMPDIR at it, so every `mkdtemp(tmpdir())` in a test (and
 * Chromium's profiles) lands inside, and the teardown removes it whole. It also holds the registry of
 * spawned processes (process-registry.ts). A run killed before its teardown is cleaned up by the next
 * run: its folder names an owner process that is gone.
 */
export interface TestRun {
  dir: string;
  /** A short id, unique among runs on this machine, for names outside the folder (databases). */
  id: string;
  /** Kills what the run's tests spawned and removes the folder. */
  finish(): void;
}

const PREFIX = 'conveyor-run-';
const OWNER_FILE = 'owner.json';

export function startTestRun(parent: string): TestRun {
  const dir = mkdtempSync(join(parent, PREFIX));
  // World-traversable: a PostgreSQL the suite starts as root runs as its own user and keeps its data here.
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) }));
  const id = `${process.pid}_${dir.slice(-6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  return {
    dir,
    id,
    finish: () => {
      killRegistered(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether the process that started a run is gone (so the run can never clean up after itself). */
export function ownerGone(owner: { pid: number; startTime: string | null }): boolean {
  const now = processStartTime(owner.pid);
  return now === null || (owner.startTime !== null && now !== owner.startTime);
}

/** Kills the processes and removes the folders of earlier runs whose vitest died before its teardown; returns their owner pids. */
export function cleanStaleRuns(parent: string): number[] {
  const cleaned: number[] = [];
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(parent, name);
    let owner: { pid: number; startTime: string | null };
    try {
      owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // not ours to judge (being created right now, or not a run folder)
    }
    if (!ownerGone(owner)) continue;
    killRegistered(dir);
    rmSync(dir, { recursive: true, force: true });
    cleaned.push(owner.pid);
  }
  return cleaned;
}
