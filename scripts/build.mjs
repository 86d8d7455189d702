// Builds the published package into dist/: tsc compiles src/ (JavaScript, .d.ts, source maps), then the
// files the code reads at run time that are not TypeScript (the dashboard, the SQL migrations) are
// copied next to the compiled code, so every `new URL('./x', import.meta.url)` finds them in dist/ too.
// Run by `npm run build`, `prepare` (so `npm ci` in a checkout builds) and `prepack`.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // `npm ci --omit=dev` runs `prepare` without TypeScript: keep a dist/ that is there, or say what is missing.
  if (existsSync(join(dist, 'cli', 'main.js'))) process.exit(0);
  console.error('build: TypeScript is not installed (a dev dependency): run `npm ci` with dev dependencies to build dist/.');
  process.exit(1);
}
// A fresh dist/, so a file deleted from src/ does not live on in the package.
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });

/** Every file under `dir` that is not TypeScript. */
function assets(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return assets(path);
    return name.endsWith('.ts') ? [] : [path];
  });
}

let copied = 0;
for (const file of assets(src)) {
  cpSync(file, join(dist, relative(src, file)));
  copied += 1;
}
console.error(`built dist/ (${copied} asset files copied: dashboard, migrations)`);
