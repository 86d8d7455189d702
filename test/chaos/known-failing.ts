import type { EngineKind } from './scenario.ts';

/**
 * The scenarios that fail today, each with the defects it waits for. `npm run chaos -- --short` (CI)
 * skips them and says so; the full run runs them and reports what they find. `onlyFull`: the full
 * version fails, the short one passes today and runs in CI. When a fix lands, delete its entries here:
 * CI then guards the fix. Empty since fair rescue accounting (issue 14): every scenario passes on both
 * engines; the list stays for the next defect the suite finds.
 */
export const KNOWN_FAILING: readonly { scenario: string; engine: EngineKind; awaits: string[]; onlyFull?: true }[] = [];

/** The defects a scenario awaits on an engine, in this mode (short or full), or null if it passes today. */
export function knownFailure(scenario: string, engine: EngineKind, short: boolean): string | null {
  const entry = KNOWN_FAILING.find((e) => e.scenario === scenario && e.engine === engine && !(short && e.onlyFull));
  return entry ? entry.awaits.join('; ') : null;
}
