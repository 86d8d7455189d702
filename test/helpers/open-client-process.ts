/**
 * Opens a ConveyorClient on the database URL given as the argument, enqueues one task, and prints
 * which database drivers this process loaded (as JSON): a child process, so the answer is not
 * muddied by what the test runner has loaded. `node --import tsx open-client-process.ts <url>`.
 */
import { createRequire } from 'node:module';
import { ConveyorClient } from '../../src/index.ts';

const client = await ConveyorClient.open({ databaseUrl: process.argv[2]! });
await client.enqueue({ taskType: 'email', payload: { to: 'ada@example.com', subject: 'Hi', body: 'Hello' } });
await client.close();
// Both drivers are CommonJS packages: each one loaded shows in the module cache.
const loaded = Object.keys(createRequire(import.meta.url).cache);
const has = (name: string) => loaded.some((file) => file.includes(`/node_modules/${name}/`));
process.stdout.write(JSON.stringify({ pg: has('pg'), betterSqlite3: has('better-sqlite3') }));
