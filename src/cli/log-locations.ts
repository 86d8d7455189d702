import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where the workers' logs are, for hints such as doctor's "grep -i error <log>". It depends on how
 * the workers were started: `conveyor start` (npm start) writes <data.dir>/logs/worker-<n>.log,
 * ./scripts/worker.sh writes $CONVEYOR_LOG_DIR/starter-worker.log (/tmp by default, as in the guide),
 * and `conveyor work` alone writes to its stdout. The logs that exist here are named; when none does,
 * every place is named with the way of starting that writes there.
 */
export function workerLogHint(p: { dataDir: string; scriptsLogDir?: string | undefined }): string {
  const startDir = join(p.dataDir, 'logs');
  const startLogs = join(startDir, 'worker-*.log');
  const scriptsLog = join(p.scriptsLogDir || '/tmp', 'starter-worker.log');
  const found = [
    ...(hasWorkerLogs(startDir) ? [`${startLogs} (conveyor start / npm start)`] : []),
    ...(existsSync(scriptsLog) ? [`${scriptsLog} (./scripts/worker.sh)`] : []),
  ];
  if (found.length > 0) return found.join(' or ');
  return `${startLogs} under npm start, ${scriptsLog} under ./scripts/worker.sh, or the output of conveyor work`;
}

function hasWorkerLogs(dir: string): boolean {
  try {
    return readdirSync(dir).some((name) => /^worker-\d+\.log$/.test(name));
  } catch {
    return false;
  }
}
