/** The machine and the code a benchmark ran on, for its record. */
import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem, type } from 'node:os';

export interface MachineInfo {
  cpus: number;
  cpu: string;
  memoryGiB: number;
  os: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  return { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), os: `${type()} ${release()}`, node: process.version };
}

export function gitCommit(): string | null {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit} (with uncommitted changes in src/)` : commit;
  } catch {
    return null;
  }
}
