import { describe, expect, it } from 'vitest';
import { copyPlainJson } from '../../src/core/json.ts';
import { newTask } from '../../src/core/new-task.ts';
import { insertedTask } from '../../src/store/shared/inserted-task.ts';

/** Every object and array inside `value`, to check that a copy shares none of them. */
function objectsIn(value: unknown, found: unknown[] = []): unknown[] {
  if (value !== null && typeof value === 'object') {
    found.push(value);
    for (const item of Object.values(value)) objectsIn(item, found);
  }
  return found;
}

describe('copyPlainJson', () => {
  it('copies plain JSON to what a JSON round trip gives, sharing no object', () => {
    const value = { s: 'x', n: 1.5, zero: -0, b: false, nil: null, list: [1, { deep: ['a'] }, []], nested: { '10': 1, a: { b: {} } } };
    const copy = copyPlainJson(value);
    expect(copy).toStrictEqual(JSON.parse(JSON.stringify(value)));
    expect(Object.is((copy as { zero: number }).zero, 0)).toBe(true);
    expect(Object.keys(copy as object)).toEqual(Object.keys(value));
    const originals = objectsIn(value);
    for (const inner of objectsIn(copy)) expect(originals).not.toContain(inner);
  });

  it('answers undefined for what JSON would change, so the caller parses the written text instead', () => {
    for (const value of [
      { when: new Date(0) },
      { missing: undefined },
      [1, , 3], // eslint-disable-line no-sparse-arrays
      { n: Number.NaN },
      { big: 1n },
      { f: () => 1 },
      JSON.parse('{"__proto__": {"polluted": true}}'),
      new (class Point { x = 1 })(),
    ]) {
      expect(copyPlainJson(value), String(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? 'bigint' : v)))).toBeUndefined();
    }
  });
});

describe('insertedTask', () => {
  it('gives the record of what was written, sharing no object with the new task it came from', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const task = newTask(
      { taskType: 'email', payload: { to: 'ann@example.com', tags: ['a'] }, metadata: { source: 'test', nested: { k: [1] } }, retryStrategy: { type: 'fixed', interval_ms: 500, max_attempts: 4 }, scheduledAt: '2026-01-02T00:00:00Z' },
      now,
    );
    const record = insertedTask(task);
    expect(record.payload).toStrictEqual(JSON.parse(task.payloadJson));
    expect(record.metadata).toStrictEqual(JSON.parse(task.metadataJson));
    expect(record.retryStrategy).toStrictEqual(JSON.parse(task.retryStrategyJson));
    expect(record).toMatchObject({ status: 'scheduled', createdAt: now, updatedAt: now, runAt: new Date('2026-01-02T00:00:00Z'), scheduledAt: new Date('2026-01-02T00:00:00Z') });
    const given = objectsIn(task);
    for (const inner of objectsIn(record)) expect(given).not.toContain(inner);
  });

  it('gives each task of a default batch its own strategy and metadata', () => {
    const now = new Date();
    const [a, b] = [newTask({ taskType: 't', payload: 1 }, now), newTask({ taskType: 't', payload: 2 }, now)].map(insertedTask);
    expect(a!.retryStrategy).toStrictEqual(b!.retryStrategy);
    expect(a!.retryStrategy).not.toBe(b!.retryStrategy);
    expect(a!.metadata).toStrictEqual({});
    expect(a!.metadata).not.toBe(b!.metadata);
  });
});
