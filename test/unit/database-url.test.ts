import { describe, expect, it } from 'vitest';
import { parseDatabaseUrl, redactDatabaseUrl } from '../../src/store/database-url.ts';
import { uuidv7 } from '../../src/core/id.ts';

describe('database URL', () => {
  it('picks SQLite files, memory and PostgreSQL with its schema', () => {
    expect(parseDatabaseUrl('sqlite:./data/conveyor.db')).toEqual({ kind: 'sqlite', filename: './data/conveyor.db' });
    expect(parseDatabaseUrl('sqlite:///var/lib/c.db')).toEqual({ kind: 'sqlite', filename: '/var/lib/c.db' });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', filename: ':memory:' });
    expect(parseDatabaseUrl('postgres://u:p@h:5432/db?schema=jobs&sslmode=disable')).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://u:p@h:5432/db?sslmode=disable',
      schema: 'jobs',
    });
    expect(parseDatabaseUrl('postgresql://h/db')).toMatchObject({ kind: 'postgres', schema: 'conveyor' });
  });

  it('refuses other schemes and unsafe schema names, without printing the password', () => {
    expect(() => parseDatabaseUrl('mysql://root:hunter2@h/db')).toThrow(/must start with sqlite: or postgres:\/\//);
    expect(() => parseDatabaseUrl('mysql://root:hunter2@h/db')).not.toThrow(/hunter2/);
    expect(() => parseDatabaseUrl('postgres://h/db?schema=x;drop')).toThrow(/schema/);
    expect(redactDatabaseUrl('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
  });
});

describe('uuidv7', () => {
  it('sorts by creation time and is a valid version 7 UUID', () => {
    const a = uuidv7(1000);
    const b = uuidv7(2000);
    expect(a < b).toBe(true);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
