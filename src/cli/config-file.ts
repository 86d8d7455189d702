import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConveyorError, ERROR_CODES } from '../core/errors.ts';

/** Looked for in the working directory when neither `--config` nor CONVEYOR_CONFIG names a file. */
export const DEFAULT_CONFIG_FILE = 'conveyor.config.json';
/** The environment name that points at a config file (`--config <file>` sets it for the process and its children). */
export const CONFIG_FILE_ENV = 'CONVEYOR_CONFIG';

/** One value from the file, as the text the setting's parser reads, and the key it was found under. */
export interface FileValue {
  raw: string;
  key: string;
}

export interface ConfigFileContent {
  /** Absolute path, as error messages and `conveyor config` show it. */
  path: string;
  /** section -> key (as written, lower case) -> value. */
  sections: Map<string, Map<string, FileValue>>;
}

/**
 * The config file to read: the one CONVEYOR_CONFIG names (it must exist: a typo must not silently
 * fall back to defaults), else conveyor.config.json in `cwd` when there is one, else none.
 */
export function findConfigFile(env: Record<string, string | undefined>, cwd: string): string | null {
  const named = env[CONFIG_FILE_ENV]?.trim();
  if (named) {
    const path = isAbsolute(named) ? named : resolve(cwd, named);
    if (!existsSync(path)) throw fileError(path, `does not exist (named by ${CONFIG_FILE_ENV} or --config)`);
    return path;
  }
  const fallback = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(fallback) ? fallback : null;
}

/**
 * Reads a JSON config file shaped like the settings: `{ "worker": { "concurrency": 8 } }`, snake_case
 * keys as in CONVEYOR__WORKER__CONCURRENCY. Numbers and booleans are given as JSON values, lists as
 * arrays (or comma-separated strings); null leaves a setting unset. Keys starting with `$` (such as
 * `$schema`) are ignored. Which sections and keys exist is checked by the caller, which knows them.
 */
export function readConfigFile(path: string): ConfigFileContent {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw fileError(path, `cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw fileError(path, `is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw fileError(path, 'must hold a JSON object of sections, e.g. {"worker": {"concurrency": 8}}');
  const sections = new Map<string, Map<string, FileValue>>();
  for (const [sectionName, section] of Object.entries(parsed)) {
    if (sectionName.startsWith('$')) continue;
    if (!isPlainObject(section)) throw fileError(path, `"${sectionName}" must be an object of settings, e.g. {"${sectionName}": {...}}`);
    const values = new Map<string, FileValue>();
    for (const [key, value] of Object.entries(section)) {
      if (key.startsWith('$') || value === null) continue;
      values.set(key.toLowerCase(), { raw: rawText(path, `${sectionName}.${key}`, value), key });
    }
    sections.set(sectionName.toLowerCase(), values);
  }
  return { path, sections };
}

/** The value as the text an environment variable would hold, so both go through the same parser. */
function rawText(path: string, field: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' || typeof item === 'number')) return value.join(',');
  throw new ConveyorError(ERROR_CODES.CONFIG, `${field} in ${path} must be a string, a number, true/false or a list; got ${JSON.stringify(value)}`, {
    field,
    details: { file: path },
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function fileError(path: string, problem: string, field?: string): ConveyorError {
  return new ConveyorError(ERROR_CODES.CONFIG, `config file ${path} ${problem}`, { field: field ?? 'config', details: { file: path } });
}
