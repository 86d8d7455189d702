import type { EngineKind } from './scenario.ts';

/**
 * The scenarios that fail today, each with the defect it waits for. `npm run chaos -- --short` (CI)
 * skips them and says so; the full run runs them and reports what they find. When a fix lands, delete
 * its entry here: CI then guards the fix.
 */
export const KNOWN_FAILING: readonly { scenario: string; engine: EngineKind; awaits: string }[] = [
  {
    scenario: 'poison',
    engine: 'sqlite',
    awaits:
      'a process.exit task takes innocent tasks claimed ahead to the dead letter (the rescue cap counts tasks never started); ' +
      'a busy-loop handler freezes its worker for good and the rescuer hands it to the next worker; ' +
      'one malformed JSON row orphans its whole claim batch',
  },
  {
    scenario: 'poison',
    engine: 'postgres',
    awaits:
      'a process.exit task takes innocent tasks claimed ahead to the dead letter (the rescue cap counts tasks never started); ' +
      'a busy-loop handler freezes its worker for good and the rescuer hands it to the next worker; ' +
      'an output with a NUL character leaves its task running forever',
  },
  {
    scenario: 'pg-restart',
    engine: 'postgres',
    awaits: 'a worker sometimes exits with "uncaught exception" on 57P01 (admin shutdown) during a PostgreSQL restart',
  },
];

export function knownFailure(scenario: string, engine: EngineKind): string | null {
  return KNOWN_FAILING.find((entry) => entry.scenario === scenario && entry.engine === engine)?.awaits ?? null;
}
