import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests import the package by name, as users do; here the name means src/ (the published exports point at dist/).
  resolve: {
    alias: [
      { find: /^conveyor-tasks\/testing$/, replacement: fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)) },
      { find: /^conveyor-tasks$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Kills what each test file spawned, once the file is done (see test/helpers/process-registry.ts).
    setupFiles: ['test/helpers/per-file-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more parallel files only make the real-process tests fight for CPU.
    maxWorkers: 2,
  },
});
