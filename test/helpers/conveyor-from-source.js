// The `conveyor` command run from src/ through tsx, with no build: what the tests spawn is the code
// under test (bin/conveyor.js runs dist/, which may be stale or missing in a checkout). A task module
// that imports the package by name gets src/ too, so it shares the classes the CLI uses.
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
// Registered last, so it runs first: it maps the package's name before tsx resolves the file.
await import('./source-imports.js');
await import('../../src/cli/main.ts');
