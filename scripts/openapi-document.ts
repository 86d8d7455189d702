/**
 * The API's OpenAPI document, generated from the app itself: buildApp() on a throwaway in-memory
 * SQLite database, never listening, then app.swagger(). What /api-docs/openapi.json serves, without a
 * server. Run it to print the document: `node --import tsx scripts/openapi-document.ts [out.json]`.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { resolveApiConfig } from '../src/api/api-config.ts';
import { buildApp } from '../src/api/build-app.ts';
import { systemClock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/logger.ts';
import { openEngine } from '../src/store/create-engine.ts';

export async function openApiDocument(): Promise<Record<string, unknown>> {
  const engine = await openEngine('sqlite::memory:');
  try {
    await engine.migrate();
    const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
    const app = await buildApp({ engine, config: resolveApiConfig(), logger: silentLogger, clock: systemClock, version });
    try {
      await app.ready();
      // A copy: the document is Fastify's own object.
      return structuredClone(app.swagger()) as unknown as Record<string, unknown>;
    } finally {
      await app.close();
    }
  } finally {
    await engine.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const text = `${JSON.stringify(await openApiDocument(), null, 2)}\n`;
  if (process.argv[2]) writeFileSync(process.argv[2], text);
  else process.stdout.write(text);
}
