// ferry's architecture as rules (design.md, "Layout"): dependencies point one way, type-only
// imports included. `npm run depcruise` checks the tree; scripts/test.sh runs it before the tests
// and test/unit/architecture/ shows that these rules do catch a forbidden import and a cycle.
// Only imports between the project's own folders are judged; packages and Node's modules are not.
const SOURCE = '^(entry|config|model|workflows|activities|worker|client|lab|stack|test|bench)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'model-is-the-floor',
      comment: 'model/ is pure and shared: it imports nothing of the layers built on it.',
      severity: 'error',
      from: { path: '^model/' },
      to: { path: '^(config|workflows|activities|worker|client|lab|entry)/' },
    },
    {
      name: 'workflows-import-only-model',
      comment: 'workflows/ is deterministic orchestration: it imports model/ and itself only (never activities/).',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { pathNot: '^(workflows|model)/' },
    },
    {
      name: 'activities-import-only-model',
      comment: 'activities/ are the side effects: they import model/ and themselves only (never workflows/).',
      severity: 'error',
      from: { path: '^activities/' },
      to: { pathNot: '^(activities|model)/' },
    },
    {
      name: 'client-imports-only-model-and-definitions',
      comment: 'client/ talks to Temporal only: model/, config/ (Temporal\'s configuration), workflows/definitions.ts and itself.',
      severity: 'error',
      from: { path: '^client/', pathNot: '^client/commands/(lab|stack)\\.ts$' },
      to: { pathNot: '^(client/|config/|model/|workflows/definitions\\.ts$)' },
    },
    {
      name: 'client-lab-commands-import-only-lab-model-and-definitions',
      comment: 'client/commands/lab.ts drives the embedded lab: lab/ besides what the rest of client/ may import.',
      severity: 'error',
      from: { path: '^client/commands/lab\\.ts$' },
      to: { pathNot: '^(client/|config/|model/|lab/|workflows/definitions\\.ts$)' },
    },
    {
      name: 'client-stack-commands-import-only-stack-model-and-definitions',
      comment: 'client/commands/stack.ts drives the production-shaped stack: stack/ besides what the rest of client/ may import.',
      severity: 'error',
      from: { path: '^client/commands/stack\\.ts$' },
      to: { pathNot: '^(client/|config/|model/|stack/|workflows/definitions\\.ts$)' },
    },
    {
      name: 'stack-is-below-the-orchestration',
      comment: 'stack/ runs the production shape (server, database, workers as processes): it may use lab/ helpers and model/, never workflows/, activities/, client/, worker/, entry/ or config/.',
      severity: 'error',
      from: { path: '^stack/' },
      to: { path: '^(workflows|activities|client|worker|entry|config)/' },
    },
    {
      name: 'config-reads-only-the-environment',
      comment: 'config/ is how processes read their environment (Temporal\'s envconfig, ferry\'s FERRY_* registry): model/ and itself only.',
      severity: 'error',
      from: { path: '^config/' },
      to: { pathNot: '^(config|model)/' },
    },
    {
      name: 'only-process-entries-import-config',
      comment: 'config/ serves the process entries (worker/, client/, entry/): the layers below never read the environment through it.',
      severity: 'error',
      from: { pathNot: '^(config|worker|client|entry|test|bench)/' },
      to: { path: '^config/' },
    },
    {
      name: 'only-entry-imports-worker',
      comment: 'worker/ is a process entry: only the composition root (entry/) imports it.',
      severity: 'error',
      from: { pathNot: '^(entry|worker|test|bench)/' },
      to: { path: '^worker/' },
    },
    {
      name: 'only-entry-imports-client',
      comment: 'client/ is the CLI and typed client: only the composition root (entry/) imports it.',
      severity: 'error',
      from: { pathNot: '^(entry|client|test|bench)/' },
      to: { path: '^client/' },
    },
    {
      name: 'lab-is-below-the-orchestration',
      comment: 'lab/ is the embedded test environment: it may use model/ and activities/, never workflows/, client/, worker/, entry/.',
      severity: 'error',
      from: { path: '^lab/' },
      to: { path: '^(workflows|client|worker|entry|stack)/' },
    },
    {
      name: 'product-does-not-import-tests',
      comment: 'test/ and bench/ use the product, never the other way round.',
      severity: 'error',
      from: { path: '^(entry|model|workflows|activities|worker|client|lab|stack)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycle anywhere, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    includeOnly: SOURCE,
    exclude: { path: '(^|/)node_modules/' },
    doNotFollow: { path: '(^|/)node_modules/' },
    // Type-only imports are dependencies too (design.md: "type imports included").
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mts', '.js', '.cjs', '.mjs', '.json'] },
    moduleSystems: ['cjs', 'es6'],
    progress: { type: 'none' },
  },
};
