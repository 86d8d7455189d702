import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withRawDatabase } from './raw-database.ts';

/**
 * Why innocent tasks ended in the dead letter, from what the workers wrote down (chaos-tasks.ts
 * records each start of an innocent attempt): a rescued attempt whose handler never started was
 * claimed ahead by a worker that died or froze, and should not have counted against the rescue cap.
 */
export async function explainDeadLetters(url: string, poisonIds: ReadonlySet<string>, recordDir: string): Promise<string | null> {
  const started = new Set<string>();
  for (const file of readdirSync(recordDir).filter((name) => name.endsWith('.starts'))) {
    for (const line of readFileSync(join(recordDir, file), 'utf8').split('\n')) if (line !== '') started.add(line);
  }
  const rows = await withRawDatabase(url, (db) =>
    db.query<{ id: string; attempts: string | unknown[] }>(db.kind === 'sqlite' ? `SELECT id, attempts FROM tasks WHERE status = 'failed'` : `SELECT id::text AS id, attempts FROM tasks WHERE status = 'failed'`),
  );
  let never = 0;
  let some = 0;
  let all = 0;
  let rescuedAttempts = 0;
  let rescuedNeverStarted = 0;
  for (const row of rows) {
    if (poisonIds.has(row.id)) continue;
    const history = (typeof row.attempts === 'string' ? JSON.parse(row.attempts) : row.attempts) as { attempt: number; outcome: string }[];
    const rescued = history.filter((entry) => entry.outcome === 'lease_expired');
    const ran = rescued.filter((entry) => started.has(`${row.id} ${entry.attempt}`)).length;
    rescuedAttempts += rescued.length;
    rescuedNeverStarted += rescued.length - ran;
    if (ran === 0) never += 1;
    else if (ran < rescued.length) some += 1;
    else all += 1;
  }
  if (never + some + all === 0) return null;
  return `${rescuedNeverStarted} of their ${rescuedAttempts} rescued attempts had never started (claimed ahead); tasks none of whose rescued attempts ran: ${never}, some: ${some}, all (running when their worker died): ${all}`;
}
