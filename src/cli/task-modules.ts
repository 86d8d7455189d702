import { existsSync, readFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConveyorError, ERROR_CODES } from '../core/errors.ts';
import type { TaskDefinition } from '../tasks/define-task.ts';

function isTaskDefinition(value: unknown): value is TaskDefinition {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<TaskDefinition>;
  return typeof candidate.name === 'string' && typeof candidate.handler === 'function' && typeof candidate.payload === 'object';
}

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);
/** What Node says when it cannot run a TypeScript file itself (too old, or stripping off; or syntax it cannot strip, such as enums). */
const NODE_CANNOT_RUN_TS = new Set(['ERR_UNKNOWN_FILE_EXTENSION', 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX', 'ERR_INVALID_TYPESCRIPT_SYNTAX']);
/** What Node says when a module compiled to CommonJS require()s an ES module it cannot load synchronously. */
const COMMONJS_TROUBLE = new Set(['ERR_REQUIRE_ESM', 'ERR_REQUIRE_CYCLE_MODULE', 'ERR_REQUIRE_ASYNC_MODULE']);

/**
 * Loads the user's task types from modules: every export that is a task definition, or an array of
 * them, counts. `conveyor work --tasks ./tasks/greet.ts` or CONVEYOR__TASKS__MODULES=./tasks/greet.ts,./tasks/resize.ts.
 *
 * JavaScript loads as it is. TypeScript loads when Node can run it: Node 22.18+ and 23.6+ strip types
 * themselves, or a loader was registered (`node --import tsx`); otherwise, if the user's project has
 * tsx installed, Conveyor registers it (Conveyor itself ships compiled and does not depend on tsx);
 * failing all that, with an error that says what to do.
 */
export async function loadTaskModules(paths: readonly string[], cwd = process.cwd()): Promise<TaskDefinition[]> {
  const definitions: TaskDefinition[] = [];
  for (const path of paths) {
    const file = resolve(cwd, path);
    let module: Record<string, unknown>;
    try {
      module = await importTaskModule(file, cwd);
    } catch (error) {
      throw new ConveyorError(ERROR_CODES.CONFIG, `tasks.modules: could not load ${file}: ${(error as Error).message}${hint(file, error)}`, { field: 'tasks.modules', cause: error });
    }
    const values = Object.values(module);
    // A module compiled to CommonJS (a .ts file in a project without "type": "module") may arrive as
    // one `default` object holding its exports.
    const commonJs = module.default;
    if (commonJs !== null && typeof commonJs === 'object' && !Array.isArray(commonJs) && !isTaskDefinition(commonJs)) values.push(...Object.values(commonJs));
    const found = values.flatMap((value) => (Array.isArray(value) ? value : [value])).filter(isTaskDefinition);
    if (found.length === 0) {
      throw new ConveyorError(ERROR_CODES.CONFIG, `tasks.modules: ${file} exports no task definition (export the result of defineTask())`, { field: 'tasks.modules' });
    }
    // `export default x` and `export const x` of the same definition count once.
    for (const definition of new Set(found)) definitions.push(definition);
  }
  return definitions;
}

let esmHooksRegistered = false;

async function importTaskModule(file: string, cwd: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  // Node strips types itself: let a .ts file with import/export load as an ES module in a CommonJS project too.
  if (extname(file) === '.ts' && (process.features as { typescript?: unknown }).typescript && !esmHooksRegistered) {
    register(new URL(`./typescript-esm-hooks${extname(import.meta.url)}`, import.meta.url));
    esmHooksRegistered = true;
  }
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if (!TYPESCRIPT.has(extname(file)) || !NODE_CANNOT_RUN_TS.has(errorCode(error))) throw error;
    // Registered for the whole process, as `node --import tsx` would: a module loaded in a private
    // namespace (tsx's tsImport) would get its own copy of this package, and PermanentTaskError
    // thrown by the handler would not be ours.
    if (!(await registerUsersTsx(file, cwd))) throw error;
    // The failed load stays cached under the plain URL.
    return (await import(`${url}?tsx`)) as Record<string, unknown>;
  }
}

let tsxRegistered = false;

/**
 * Registers tsx as installed in the user's project (looked up from the task module's folder, then from
 * the working directory): its main entry is what `node --import tsx` runs, hooks for ES modules and
 * CommonJS alike. False when the project has no tsx.
 */
async function registerUsersTsx(file: string, cwd: string): Promise<boolean> {
  if (tsxRegistered) return true;
  for (const from of [dirname(file), cwd]) {
    let manifest: string;
    try {
      manifest = createRequire(join(from, 'noop.js')).resolve('tsx/package.json');
    } catch {
      continue;
    }
    const exportsField = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, unknown> }).exports ?? {};
    const entry = importEntry(exportsField['.']);
    if (entry === null || !existsSync(join(dirname(manifest), entry))) continue;
    await import(pathToFileURL(join(dirname(manifest), entry)).href);
    tsxRegistered = true;
    return true;
  }
  return false;
}

/** The file a package.json `exports` entry gives an `import` (nested conditions followed). */
function importEntry(target: unknown): string | null {
  if (typeof target === 'string') return target;
  if (target === null || typeof target !== 'object') return null;
  const conditions = target as Record<string, unknown>;
  for (const condition of ['import', 'default']) {
    if (condition in conditions) return importEntry(conditions[condition]);
  }
  return null;
}

function errorCode(error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : '';
}

/** What to do about the usual reasons a task module does not load. */
function hint(file: string, error: unknown): string {
  const code = errorCode(error);
  if (TYPESCRIPT.has(extname(file)) && NODE_CANNOT_RUN_TS.has(code)) {
    return (
      `. Node.js ${process.version} does not run this TypeScript by itself. Either install tsx in your project ` +
      '(npm install --save-dev tsx; Conveyor then loads .ts task modules through it), or use Node.js 22.18+ or 23.6+, ' +
      'which strip types themselves (22.6 to 22.17 with NODE_OPTIONS=--experimental-strip-types; ' +
      'enums and namespaces need tsx), or compile your task modules to .js'
    );
  }
  const message = error instanceof Error ? error.message : '';
  if (COMMONJS_TROUBLE.has(code) || /Cannot require\(\) ES Module|Cannot use import statement outside a module/.test(message)) {
    return (
      '. The module was run as CommonJS (your package.json has no "type": "module"), and CommonJS cannot load it this way: ' +
      'add "type": "module" to package.json, or rename the file to .mts (.mjs for JavaScript)'
    );
  }
  return '';
}
