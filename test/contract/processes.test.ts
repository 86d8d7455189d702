import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { DRAIN_TASKS } from '../helpers/load-size.ts';
import { describeEachEngine } from './engine-fixture.ts';

const run = promisify(execFile);
const claimer = fileURLToPath(new URL('./claimer-process.ts', import.meta.url));

describeEachEngine('claims across processes', (f) => {
  it(`4 processes drain ${DRAIN_TASKS} tasks from one database: each task once, no busy error escapes`, async () => {
    const { engine, db, insertMany } = f();
    await insertMany(DRAIN_TASKS);
    const runs = await Promise.all(
      [1, 2, 3, 4].map((n) => run(process.execPath, ['--import', 'tsx', claimer, db.url, `proc-${n}`], { maxBuffer: 64 * 1024 * 1024 })),
    );
    const all = runs.flatMap(({ stdout }) => JSON.parse(stdout) as string[]);
    for (const { stderr } of runs) expect(stderr).not.toMatch(/SQLITE_BUSY|database is locked|Error/);
    expect(all.length).toBe(DRAIN_TASKS);
    expect(new Set(all).size).toBe(DRAIN_TASKS);
    const stats = await engine.taskStats({ now: new Date() });
    expect(stats.byStatus.completed).toBe(DRAIN_TASKS);
  }, 180_000);
});
