import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Reads `NNNN_name.sql` files from an engine's migrations folder, in version order. Both engines use
 * the same numbers for the same change (River's rule), so `conveyor migrate` means the same everywhere.
 */
export function readMigrations(folder: string): Migration[] {
  return readdirSync(folder)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: readFileSync(join(folder, file), 'utf8'),
    }));
}

/** Compares the versions a database has applied with the known migrations (see Engine.migrationStatus). */
export function migrationStatusOf(applied: Iterable<number>, migrations: readonly Migration[]): { current: number; latest: number; pending: { version: number; name: string }[] } {
  const done = new Set(applied);
  return {
    current: Math.max(0, ...done),
    latest: migrations.at(-1)?.version ?? 0,
    pending: migrations.filter((m) => !done.has(m.version)).map((m) => ({ version: m.version, name: m.name })),
  };
}
