import { fileURLToPath } from 'node:url';
import { readMigrations } from '../../src/store/migration-files.ts';

/**
 * The migrations this checkout ships (both engines hold the same numbers), so that tests about
 * migrating say "the latest" rather than a number that every new migration would have to edit.
 */
export const KNOWN_MIGRATIONS = readMigrations(fileURLToPath(new URL('../../src/store/sqlite/migrations', import.meta.url)));
export const LATEST_MIGRATION = KNOWN_MIGRATIONS.at(-1)!.version;
/** As `conveyor doctor --fix` reports a fresh database's migration. */
export const APPLIED_ALL = `applied ${KNOWN_MIGRATIONS.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`).join(', ')}; now at version ${LATEST_MIGRATION}`;
