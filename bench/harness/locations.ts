import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_REDIS, createBenchDatabase, dropBenchDatabase } from '../bench-databases.ts';
import type { Location, SystemDefinition } from '../systems/system.ts';

/** Schema names each product uses by default, kept so its SQL looks as it does in production. */
const SCHEMAS: Record<SystemDefinition['product'], string> = {
  conveyor: 'conveyor',
  'graphile-worker': 'graphile_worker',
  'pg-boss': 'pgboss',
  bullmq: '',
};

/** A fresh place for one run of one system: its own database, SQLite file or Redis prefix. */
export async function allocateLocation(system: SystemDefinition): Promise<Location> {
  switch (system.store) {
    case 'postgres': {
      const { name, url } = await createBenchDatabase(system.id);
      return { kind: 'postgres', database: name, url, schema: SCHEMAS[system.product] };
    }
    case 'sqlite': {
      const directory = mkdtempSync(join(tmpdir(), 'conveyor-bench-'));
      return { kind: 'sqlite', directory, file: join(directory, 'bench.db') };
    }
    case 'redis':
      return { kind: 'redis', url: BENCH_REDIS, prefix: `bench_${randomBytes(4).toString('hex')}` };
  }
}

export async function releaseLocation(location: Location): Promise<void> {
  if (location.kind === 'postgres') await dropBenchDatabase(location.database);
  else if (location.kind === 'sqlite') rmSync(location.directory, { recursive: true, force: true });
}
