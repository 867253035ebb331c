// Lint rules for the whole tree. Type-aware rules are left to `tsc --noEmit`
// (run by `npm test`) so that linting stays fast.
import js from '@eslint/js';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// ---- the rooms of ARCHITECTURE.md and what each may import --------------------------------------
// A room may always import its own files. `imports`: rooms it may import anything from (`'*'`: every
// room); `types`: rooms it may import types from (`import type`), never values; `packages`: the npm
// packages and Node built-ins it may import (`name` or `prefix*`), every one when not given.
// ARCHITECTURE.md's "may import" column says the same in words: change both together.
const ENTRY_POINT_IMPORTS = [
  'detectors',
  'synthetic',
  'platform',
  'training',
  'operations',
  'activities',
  'workflows',
  'local-services', // `halflife services` and the daemon start and stop the local services
];
const ROOMS = {
  detectors: { imports: [], packages: [] },
  synthetic: { imports: ['detectors'], packages: [] },
  platform: { imports: [], types: ['detectors'] },
  training: { imports: ['detectors', 'platform'] },
  operations: { imports: ['detectors', 'platform', 'training'] },
  activities: { imports: ['detectors', 'synthetic', 'platform', 'training', 'operations'] },
  // Deterministic workflow code: Temporal's sandbox has no Node built-ins and no I/O.
  workflows: { imports: ['detectors'], types: ['activities', 'platform'], packages: ['@temporalio/workflow'] },
  'local-services': { imports: ['platform'] },
  // Entry points: never each other. The daemon also serves the dashboard (and vendors uPlot for it).
  workers: { imports: [...ENTRY_POINT_IMPORTS, 'dashboards'] },
  cli: { imports: ENTRY_POINT_IMPORTS },
  bin: { imports: ['cli'] },
  // The web dashboard reads the API over HTTP; setup runs before `npm install`, on Node built-ins only.
  dashboards: { imports: [] },
  setup: { imports: [], packages: ['node:*'] },
  bench: { imports: '*' },
  test: { imports: '*' },
};

/** Single files allowed one more import than their room, and why. Paths from the project root. */
const EXCEPTIONS = [
  {
    // `halflife start` runs the daemon in the CLI's process; imported on demand, so other commands don't load it.
    file: 'cli/commands/start.ts',
    imports: ['workers/daemon.ts'],
  },
  {
    // `halflife replay` runs the workflow code in a replay worker, in the CLI's process; imported on demand.
    file: 'cli/commands/replay.ts',
    imports: ['workers/replay.ts'],
  },
  {
    // Clients talk to a monitor with the workflow's own message definitions and start it with its input type,
    // as Temporal's clients do; messages.ts holds only definitions and plain types.
    file: 'operations/monitor-control.ts',
    imports: ['workflows/messages.ts', 'workflows/monitor/input.ts'],
  },
  {
    // A policy file is validated with the very duration grammar and time-zone check the evaluator applies,
    // and documents the evaluator's own evidence defaults, data-quality bars and quality metrics.
    file: 'platform/policy-file.ts',
    imports: [
      'detectors/policy/duration.ts',
      'detectors/policy/blackout.ts',
      'detectors/policy/evidence.ts',
      'detectors/policy/data-quality-bars.ts',
      'detectors/probes/policy.ts',
      'detectors/quality/quality-metric.ts',
    ],
  },
  {
    // The alerts section of a policy is validated with the same duration grammar and the rule kinds the evaluator knows.
    file: 'platform/alert-policy-schema.ts',
    imports: ['detectors/policy/duration.ts', 'detectors/alerts/types.ts'],
  },
  {
    // The segments section of a policy documents and applies the evaluator's own segment defaults.
    file: 'platform/segment-policy-schema.ts',
    imports: ['detectors/segments/types.ts'],
  },
  {
    // Segment queries label events outside a key's kept values, and events without one, as the evaluator names them.
    file: 'platform/clickhouse/segment-grouping.ts',
    imports: ['detectors/segments/types.ts'],
  },
  {
    // The multivariate section of a policy documents and applies the tests' own defaults and names.
    file: 'platform/multivariate-policy-schema.ts',
    imports: ['detectors/drift/multivariate/settings.ts'],
  },
  {
    // A window's outcome sums start from the detectors' own zero sums, so the monitor and the backtest sum alike,
    // and clip log loss's probabilities at the detectors' own ε, so SQL and detectors lose alike.
    file: 'platform/clickhouse/outcome-sums-repository.ts',
    imports: ['detectors/quality/outcome-sums.ts', 'detectors/quality/probabilistic.ts'],
  },
  {
    // The estimated log loss clips probabilities at the detectors' own ε, as the realised one does.
    file: 'platform/clickhouse/outcome-estimation-repository.ts',
    imports: ['detectors/quality/probabilistic.ts'],
  },
];

const ALL_ROOMS = Object.keys(ROOMS);
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const relativeTo = (room) => `^(\\.\\./)+${escapeRegExp(room)}/`;
const exceptionsOf = (file) => EXCEPTIONS.filter((e) => e.file === file);

/** Zones for import-x/no-restricted-paths: every room a file of `room` may not import from. */
function forbiddenZones(room, allowedFiles = []) {
  const { imports, types = [] } = ROOMS[room];
  return ALL_ROOMS.filter((other) => other !== room && !imports.includes(other) && !types.includes(other)).map(
    (other) => ({
      target: `./${room}`,
      from: `./${other}`,
      except: allowedFiles.filter((f) => f.startsWith(`${other}/`)).map((f) => `./${f.slice(other.length + 1)}`),
      message: `${room}/ may not import ${other}/ (ARCHITECTURE.md, "Rooms").`,
    }),
  );
}

/** Patterns for no-restricted-imports: type-only rooms, and packages / Node built-ins where limited. */
function restrictedImportPatterns(room, allowedFiles = []) {
  const { types = [], packages } = ROOMS[room];
  const patterns = types.map((other) => {
    const allowed = allowedFiles
      .filter((f) => f.startsWith(`${other}/`))
      .map((f) => escapeRegExp(f.slice(other.length + 1)));
    const notAllowed = allowed.length > 0 ? `(?!(${allowed.join('|')})$)` : '';
    return {
      regex: `${relativeTo(other)}${notAllowed}`,
      allowTypeImports: true,
      message: `${room}/ may import only types from ${other}/ (ARCHITECTURE.md, "Rooms").`,
    };
  });
  if (packages !== undefined) {
    const allowed = packages.map((name) =>
      name.endsWith('*') ? escapeRegExp(name.slice(0, -1)) : `${escapeRegExp(name)}$`,
    );
    patterns.push({
      regex: `^(?!${['\\.{1,2}/', ...allowed].join('|')})`,
      // Types from a package are erased at run time (the workflow sandbox never loads them).
      allowTypeImports: packages.length > 0,
      message:
        packages.length === 0
          ? `${room}/ is pure: no npm packages, no Node built-ins (ARCHITECTURE.md, "Rooms").`
          : `${room}/ may import only ${packages.join(', ')} from outside the project (ARCHITECTURE.md, "Rooms").`,
    });
  }
  return patterns;
}

/** The rules that enforce the rooms, for the files of `room` (or one file with its exceptions). */
function layeringRules(room, allowedFiles) {
  const patterns = restrictedImportPatterns(room, allowedFiles);
  return {
    'import-x/no-restricted-paths': ['error', { zones: forbiddenZones(room, allowedFiles) }],
    ...(patterns.length > 0 && { 'no-restricted-imports': ['error', { patterns }] }),
  };
}

const layering = [
  ...ALL_ROOMS.filter((room) => ROOMS[room].imports !== '*').map((room) => ({
    files: [`${room}/**/*.{ts,js,mjs}`],
    rules: layeringRules(room),
  })),
  ...[...new Set(EXCEPTIONS.map((e) => e.file))].map((file) => ({
    files: [file],
    rules: layeringRules(
      file.split('/')[0],
      exceptionsOf(file).flatMap((e) => e.imports),
    ),
  })),
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.halflife/**', 'dashboards/public/vendor/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      // Relative imports name their files with the extension (.ts), so Node's resolution is all it takes.
      'import-x/resolver-next': [createNodeResolver()],
      // Files no-cycle reads to follow imports, and the parser for the TypeScript ones.
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        structuredClone: 'readonly',
        document: 'readonly',
        window: 'readonly',
        EventSource: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  ...layering,
  {
    // No import cycles. Type-only imports cannot form one at run time and are not followed.
    files: ['**/*.{ts,js,mjs}'],
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // Every cached workflow shares one instance of the detectors it imports (the bundle preloads them:
    // workers/workflow-shared-modules.ts), so a module-scope variable would be shared state between
    // workflows — and between their replays. Detectors keep none.
    files: ['detectors/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['Program > VariableDeclaration', 'Program > ExportNamedDeclaration > VariableDeclaration'].map((at) => ({
          selector: `${at}[kind=/^(let|var)$/]`,
          message:
            'detectors/ keep no module-scope variables: every cached workflow shares these modules (workers/workflow-shared-modules.ts). Pass state in and out.',
        })),
      ],
    },
  },
  {
    // Preloads given to `node --require` (workers/daemon.sh): CommonJS, because Node runs `--require`
    // modules in worker threads too and `--import` ones only in the main thread.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', globalThis: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The dashboard's browser modules are plain JS that tsc does not check: a name imported that its
    // module no longer exports would only show as a blank page.
    files: ['dashboards/web/**/*.js'],
    rules: { 'import-x/named': 'error' },
  },
);
