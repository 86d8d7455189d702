import { expect, it } from 'vitest';
import { rawExec } from '../helpers/raw-exec.ts';
import { describeEachEngine } from './engine-fixture.ts';

/** Data the engine cannot decode (written by hand, or by an old bug) costs one task, never a worker's whole claim. */
describeEachEngine('undecodable rows', (f) => {
  it('fails a claimed task whose metadata is not a JSON object, naming the column, and hands out the rest', async () => {
    const { engine, db, insertMany, claim } = f();
    const [first, bad, last] = await insertMany(3);
    await rawExec(db, `UPDATE tasks SET metadata = '[1, 2]' WHERE id = '${bad!.id}'`);
    const claimed = await claim(10);
    expect(claimed.map((task) => task.id).sort()).toEqual([first!.id, last!.id].sort());
    const failed = await engine.taskGet({ id: bad!.id });
    expect(failed).toMatchObject({ status: 'failed', lastError: 'metadata: stored JSON is not an object', currentAttempt: 1 });
    expect(await claim(10)).toEqual([]);
  });

  it('fails a claimed task whose payload is malformed JSON, and still shows the task; PostgreSQL cannot store such a payload', async () => {
    const { engine, db, insertMany, claim } = f();
    const [first, bad] = await insertMany(2);
    const corrupt = rawExec(db, `UPDATE tasks SET payload = '{"n": 1' WHERE id = '${bad!.id}'`);
    if (engine.kind === 'postgres') {
      // jsonb checks what it stores: the same claim path decodes every row, but none can be malformed here.
      await expect(corrupt).rejects.toThrow(/invalid input syntax for type json/);
      expect((await claim(10)).map((task) => task.id).sort()).toEqual([first!.id, bad!.id].sort());
      return;
    }
    await corrupt;
    expect((await claim(10)).map((task) => task.id)).toEqual([first!.id]);
    const failed = await engine.taskGet({ id: bad!.id });
    expect(failed).toMatchObject({ status: 'failed', lastError: 'payload: stored JSON cannot be decoded', payload: '{"n": 1' });
  });
});
