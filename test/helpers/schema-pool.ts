import pg from 'pg';
import { insertChannel, quoteIdentifier } from '../../src/store/postgres/sql-parts.ts';

/**
 * Migrated PostgreSQL schemas, kept for the next test instead of dropped. Migrating a fresh schema
 * costs most of a second on a loaded machine (every table, index and trigger of every migration);
 * taking a migrated schema from the pool costs one rename, and giving it back one TRUNCATE.
 *
 * A test's schema gets its name up front (its URL is known before anything runs); take() renames a
 * pooled schema to that name. The insert trigger's NOTIFY channel is derived from the schema's name,
 * so take() re-creates the triggers that name the old channel. give() returns a schema only when its
 * structure is still exactly the migrated one (its fingerprint) and its migrations are all there; a
 * test that altered it or deleted migration rows gets it dropped instead.
 *
 * A session still connected to a schema when it is given back cannot reach the next test's data:
 * the rename invalidates its cached plans, which then no longer find the old name.
 */

/** What the global setup measures on a freshly migrated schema, and every test process compares with. */
export interface SchemaPoolSpec {
  /** Pooled schemas are named `<prefix><random>`. */
  prefix: string;
  fingerprint: string;
  migrations: number[];
}

const NAME_TOKEN = '<schema>';
const CHANNEL_TOKEN = '<channel>';

/**
 * The schema's structure, with its own name and channel replaced by tokens so that two schemas
 * migrated alike match: tables and their columns, constraints, indexes, triggers and functions.
 */
export async function schemaFingerprint(client: pg.ClientBase, schema: string): Promise<string> {
  // Unqualified names in the definitions below (pg_get_*def qualify only what is off the search_path).
  await client.query(`SET search_path TO ${quoteIdentifier(schema)}`);
  try {
    const { rows } = await client.query<{ item: string }>(
      `SELECT c.relkind::text || ' ' || c.relname::text || ' ' || coalesce((
           SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''), ', ' ORDER BY a.attnum)
           FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') AS item
         FROM pg_class c WHERE c.relnamespace = $1::regnamespace
       UNION ALL SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = $1::regnamespace
       UNION ALL SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = $1::regnamespace
       UNION ALL SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = $1::regnamespace AND NOT t.tgisinternal
       UNION ALL SELECT 'function ' || p.proname || '(' || pg_get_function_arguments(p.oid) || ') ' || p.prosrc FROM pg_proc p WHERE p.pronamespace = $1::regnamespace`,
      [schema],
    );
    const items = rows.map((row) => row.item.split(insertChannel(schema)).join(CHANNEL_TOKEN).split(schema).join(NAME_TOKEN)).sort();
    return items.join('\n');
  } finally {
    await client.query('RESET search_path');
  }
}

export async function appliedMigrations(client: pg.ClientBase, schema: string): Promise<number[]> {
  const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${quoteIdentifier(schema)}.conveyor_migrations ORDER BY version`);
  return rows.map((row) => Number(row.version));
}

/**
 * Renames a pooled schema to `schema` and points its triggers at `schema`'s channel. False when the
 * pool is empty (the caller's migrate() then makes the schema), or `schema` exists already.
 */
export async function takeFromPool(pool: pg.Pool, spec: SchemaPoolSpec, schema: string): Promise<boolean> {
  const client = await pool.connect();
  try {
    // Two test processes may pick the same schema: the loser's rename finds it gone and picks again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const { rows } = await client.query<{ nspname: string }>(
        "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY random() LIMIT 1",
        [spec.prefix],
      );
      const pooled = rows[0]?.nspname;
      if (!pooled) return false;
      try {
        await client.query('BEGIN');
        // Two renames of one schema at once fail with "tuple concurrently updated", not 3F000: the
        // lock makes the second pick another (or find this one gone once the first committed).
        const locked = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked', [pooled]);
        if (!locked.rows[0]?.locked) {
          await client.query('ROLLBACK');
          continue;
        }
        await renameSchema(client, pooled, schema);
        await client.query('COMMIT');
        return true;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        const code = (error as { code?: string }).code;
        if (code === '42P06') return false; // `schema` exists: someone made it already
        if (code !== '3F000') throw error; // 3F000: the pooled schema was taken by another process
      }
    }
    return false;
  } finally {
    client.release();
  }
}

/**
 * Renames a schema (inside the caller's transaction) and points the triggers that named its old
 * NOTIFY channel at the new one, so that a schema's triggers always name its own channel.
 */
async function renameSchema(client: pg.PoolClient, from: string, to: string): Promise<void> {
  await client.query(`ALTER SCHEMA ${quoteIdentifier(from)} RENAME TO ${quoteIdentifier(to)}`);
  const triggers = await client.query<{ name: string; table: string; definition: string }>(
    `SELECT t.tgname AS name, c.relname AS table, pg_get_triggerdef(t.oid) AS definition
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE c.relnamespace = $1::regnamespace AND NOT t.tgisinternal`,
    [to],
  );
  for (const trigger of triggers.rows) {
    if (!trigger.definition.includes(insertChannel(from))) continue;
    await client.query(`DROP TRIGGER ${quoteIdentifier(trigger.name)} ON ${quoteIdentifier(to)}.${quoteIdentifier(trigger.table)}`);
    await client.query(trigger.definition.split(insertChannel(from)).join(insertChannel(to)));
  }
  // Functions whose body names the schema (the owner_usage triggers' fast path compares it), written
  // again under the new name, as a migration on that name would have written them.
  const functions = await client.query<{ definition: string }>(
    'SELECT pg_get_functiondef(p.oid) AS definition FROM pg_proc p WHERE p.pronamespace = $1::regnamespace AND strpos(p.prosrc, $2) > 0',
    [to, quoteIdentifier(from)],
  );
  for (const fn of functions.rows) await client.query(fn.definition.split(quoteIdentifier(from)).join(quoteIdentifier(to)));
}

/** Empties `schema` and puts it back in the pool when it is still as migrated; otherwise drops it. */
export async function giveToPool(pool: pg.Pool, spec: SchemaPoolSpec, schema: string, pooledName: string): Promise<void> {
  const client = await pool.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (!exists.rowCount) return;
    let reusable = false;
    try {
      reusable = (await schemaFingerprint(client, schema)) === spec.fingerprint && JSON.stringify(await appliedMigrations(client, schema)) === JSON.stringify(spec.migrations);
    } catch {
      reusable = false;
    }
    if (reusable) {
      try {
        await client.query('BEGIN');
        // A process the test left running must not hold it up for long; then the schema is dropped.
        await client.query("SET LOCAL lock_timeout = '5s'");
        const tables = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'conveyor_migrations'", [schema]);
        const s = quoteIdentifier(schema);
        if (tables.rows.length > 0) await client.query(`TRUNCATE ${tables.rows.map((row) => `${s}.${quoteIdentifier(row.tablename)}`).join(', ')} RESTART IDENTITY`);
        await renameSchema(client, schema, pooledName);
        await client.query('COMMIT');
        return;
      } catch {
        await client.query('ROLLBACK').catch(() => {});
      }
    }
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  } finally {
    client.release();
  }
}
