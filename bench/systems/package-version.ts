import { readFileSync } from 'node:fs';

/**
 * The installed version of a package, read from node_modules by path: several packages do not
 * export their package.json, so `require('x/package.json')` fails for them.
 */
export function packageVersion(name: string): string | null {
  try {
    const file = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}
