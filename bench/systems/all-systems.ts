import { bullmq } from './bullmq.ts';
import { conveyor } from './conveyor.ts';
import { graphileWorker } from './graphile-worker.ts';
import { pgBoss } from './pg-boss.ts';
import type { SystemDefinition } from './system.ts';

/** Every system the benchmark runs, Conveyor first; `--systems a,b` on the command line picks some. */
export function allSystems(): SystemDefinition[] {
  return [conveyor('postgres'), conveyor('sqlite'), graphileWorker(false), graphileWorker(true), pgBoss(false), pgBoss(true), bullmq()];
}

export function findSystem(id: string): SystemDefinition {
  const found = allSystems().find((system) => system.id === id);
  if (!found) throw new Error(`unknown system ${id}; known: ${allSystems().map((s) => s.id).join(', ')}`);
  return found;
}
