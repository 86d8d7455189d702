#!/usr/bin/env node
// The `conveyor` command: the compiled CLI in dist/ (plain JavaScript, no TypeScript compiled at start).
// dist/ ships in the npm package; in a checkout, `npm ci` builds it (the `prepare` script) and
// `npm run build` rebuilds it after a change.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('conveyor: dist/ is missing (this is a source checkout that was not built): run `npm run build`, or `npm ci`, which builds it.\n');
  process.exit(1);
}
await import(main.href);
