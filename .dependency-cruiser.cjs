/**
 * The layers of src/, bottom to top, and the one-way arrows between them (npm run lint:deps, part
 * of npm run lint). Type-only imports count (tsPreCompilationDeps), so a cycle through types
 * fails as surely as one through values.
 *
 *   model/ (and kinds/names.ts)   the vocabulary: plain data and pure functions over it
 *   aws/                          clients, credentials, errors, prices: the edges to AWS
 *   engine/                       the sweep's protocol and rules; knows no kind by name
 *   report/                       report, outputs, summary, notification, log
 *   kinds/                        one module per kind, declared against engine/kind.ts
 *   kinds/registry.ts             the composition root: the only importer of the kind modules
 *   inputs.ts, main.ts            the action: main.ts alone imports the registry
 */
const SRC = '^src/'
const below = (...layers) => ({ path: SRC, pathNot: layers })
const LEAVES = ['^src/model/', '^src/kinds/names\\.ts$']

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles in src/, values and types alike.',
      from: { path: SRC },
      to: { circular: true }
    },
    {
      name: 'names-is-a-leaf',
      severity: 'error',
      comment: 'kinds/names.ts is read by every layer, so it imports nothing of src/.',
      from: { path: '^src/kinds/names\\.ts$' },
      to: { path: SRC }
    },
    {
      name: 'model-is-the-bottom',
      severity: 'error',
      comment: 'model/ is the vocabulary: it imports only itself and the kind names.',
      from: { path: '^src/model/' },
      to: below(...LEAVES)
    },
    {
      name: 'aws-below-the-engine',
      severity: 'error',
      comment: 'aws/ is the edge to AWS: it knows the vocabulary, not the sweep.',
      from: { path: '^src/aws/' },
      to: below('^src/aws/', ...LEAVES)
    },
    {
      name: 'engine-knows-no-kind',
      severity: 'error',
      comment: 'The engine drives whatever kinds it is handed: it imports no kind module, no report and no registry.',
      from: { path: '^src/engine/' },
      to: below('^src/engine/', '^src/aws/', ...LEAVES)
    },
    {
      name: 'report-below-the-kinds',
      severity: 'error',
      comment: 'The report presents what the engine found, for the kinds main.ts hands it: no kind module, no registry.',
      from: { path: '^src/report/' },
      to: below('^src/report/', '^src/engine/(kind|run-control)\\.ts$', '^src/aws/', '^src/kinds/findings\\.ts$', ...LEAVES)
    },
    {
      name: 'kinds-below-the-action',
      severity: 'error',
      comment: 'A kind module is declared against the engine: it never imports the registry, another kind, the report or the action.',
      from: { path: '^src/kinds/(?!registry\\.ts$)([^/]+)' },
      to: { path: SRC, pathNot: ['^src/kinds/$1', '^src/engine/', '^src/aws/', '^src/kinds/findings\\.ts$', ...LEAVES] }
    },
    {
      name: 'registry-only-in-main',
      severity: 'error',
      comment: 'The registry is the composition root: main.ts alone imports it and hands the kinds on.',
      from: { path: SRC, pathNot: '^src/main\\.ts$' },
      to: { path: '^src/kinds/registry\\.ts$' }
    },
    {
      name: 'nothing-imports-the-action',
      severity: 'error',
      comment: 'main.ts and index.ts are the top: nothing in src/ imports them (index.ts only calls run()).',
      from: { path: SRC, pathNot: '^src/index\\.ts$' },
      to: { path: '^src/(main|index)\\.ts$' }
    }
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    includeOnly: SRC,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] }
  }
}
