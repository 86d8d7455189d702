/**
 * The import rules of DESIGN.md ("who may import whom"), checked by `npm run lint`.
 * Each rule names the module it protects; a violation prints the rule's comment.
 */
const driverOutside = (driver, folder) => ({
  name: `${driver}-only-in-${folder.replaceAll('/', '-')}`,
  comment: `the ${driver} driver is used only inside ${folder} (and create-engine.ts)`,
  severity: 'error',
  from: { path: '^src/', pathNot: [`^${folder}`, '^src/store/create-engine\\.ts$'] },
  to: { path: `node_modules/${driver}/` },
});

module.exports = {
  forbidden: [
    {
      name: 'core-imports-nothing',
      comment: 'core is the pure domain: it imports nothing else of ours',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'store-imports-only-core',
      comment: 'store/* may import core only',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/', pathNot: ['^src/core/', '^src/store/'] },
    },
    {
      name: 'engines-stay-apart',
      comment: 'an engine folder never imports another engine; only create-engine.ts knows both',
      severity: 'error',
      from: { path: '^src/store/(sqlite|postgres)/' },
      to: { path: '^src/store/(sqlite|postgres)/', pathNot: '^src/store/$1/' },
    },
    {
      name: 'tasks-import-only-core',
      comment: 'tasks may import core only',
      severity: 'error',
      from: { path: '^src/tasks/' },
      to: { path: '^src/', pathNot: ['^src/core/', '^src/tasks/'] },
    },
    {
      name: 'worker-uses-engine-types-only',
      comment: 'worker may import core, tasks and the types of store/engine.ts; never api or engine internals',
      severity: 'error',
      from: { path: '^src/worker/' },
      to: { path: '^src/', pathNot: ['^src/core/', '^src/tasks/', '^src/worker/', '^src/store/engine\\.ts$'] },
    },
    {
      name: 'api-and-auth-never-import-worker',
      comment: 'api and auth may import core, tasks, auth and the types of store/engine.ts; never the worker',
      severity: 'error',
      from: { path: '^src/(api|auth)/' },
      to: { path: '^src/', pathNot: ['^src/core/', '^src/tasks/', '^src/api/', '^src/auth/', '^src/store/engine\\.ts$'] },
    },
    {
      name: 'dashboard-uses-api-types-only',
      comment: 'the dashboard reads data over HTTP; it may import API types only',
      severity: 'error',
      from: { path: '^src/dashboard/' },
      to: { path: '^src/', pathNot: ['^src/dashboard/', '^src/api/schemas/'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'testing-builds-on-the-library',
      comment: 'src/testing (conveyor/testing) uses the library (client, worker, engines, tasks); never the API, auth, dashboard or CLI',
      severity: 'error',
      from: { path: '^src/testing/' },
      to: { path: '^src/(api|auth|dashboard|cli)/' },
    },
    {
      name: 'nothing-imports-testing',
      comment: 'the testing helpers are for users\' tests; production code never depends on them',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/testing/' },
      to: { path: '^src/testing/' },
    },
    driverOutside('pg', 'src/store/postgres/'),
    driverOutside('better-sqlite3', 'src/store/sqlite/'),
    {
      name: 'no-circular',
      comment: 'modules form a tree',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
