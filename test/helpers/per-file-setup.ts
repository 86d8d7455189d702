import { afterAll } from 'vitest';
import { killSpawnedHere } from './process-registry.ts';

// Runs after the file's own afterAll hooks (vitest runs after-hooks in reverse): whatever process a
// test of this file spawned and did not stop, because it failed or forgot, dies here with its group.
afterAll(() => killSpawnedHere());
