// Module resolution hook for test/helpers/conveyor-from-source.js: the package's own name (as a user's
// task module writes it) resolves to src/, as tsconfig.json's paths and vitest.config.ts's alias do.
const NAME = 'conveyor-tasks';
const ENTRIES = {
  [NAME]: new URL('../../src/index.ts', import.meta.url).href,
  [`${NAME}/testing`]: new URL('../../src/testing/index.ts', import.meta.url).href,
};

export async function resolve(specifier, context, nextResolve) {
  const entry = ENTRIES[specifier];
  return nextResolve(entry ?? specifier, context);
}
