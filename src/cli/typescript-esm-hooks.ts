/**
 * Module hooks (registered with module.register by task-modules.ts) for Node versions that strip
 * TypeScript types themselves: a `.ts` task module written with `import`/`export` in a CommonJS
 * project (`npm init -y` writes "type": "commonjs") is loaded as the ES module it is, instead of
 * failing with "Cannot use import statement outside a module". Only the user's own files; packages
 * in node_modules keep their format.
 */
import { readFile } from 'node:fs/promises';

interface LoadResult {
  format?: string | null;
  source?: string | ArrayBuffer | Uint8Array | null;
  shortCircuit?: boolean;
}

type NextLoad = (url: string, context?: unknown) => Promise<LoadResult>;

const ESM_SYNTAX = /^\s*(import\s*[\w{*'"]|export\s)/m;

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  if (result.format !== 'commonjs-typescript' || !url.startsWith('file:') || url.includes('/node_modules/')) return result;
  const source = result.source == null ? await readFile(new URL(url), 'utf8') : Buffer.from(result.source as Uint8Array).toString('utf8');
  if (!ESM_SYNTAX.test(source)) return result;
  return { format: 'module-typescript', source, shortCircuit: true };
}
