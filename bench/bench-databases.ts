import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the benchmarks use: BENCH_DATABASE_URL, else the machine's local server. */
export const BENCH_POSTGRES = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema for one benchmark run, so runs never see each other's rows. */
export function benchPostgresUrl(): { url: string; schema: string } {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const url = new URL(BENCH_POSTGRES);
  url.searchParams.set('schema', schema);
  return { url: url.toString(), schema };
}

export async function dropPostgresSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_POSTGRES });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
