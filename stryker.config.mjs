// Mutation testing of the trust core (issue 26): StrykerJS changes one
// operator at a time in the files below, runs the tests that cover it, and
// counts the mutants no test notices. `npm run mutate` runs it (incremental:
// a re-run tests only mutants whose code or covering tests changed); the
// HTML and JSON reports land in reports/mutation/ (git-ignored). Mutants
// judged equivalent are listed with their reason in stryker.equivalent.md.
// The CI subset is stryker.ci.config.mjs (see .ci/run).
import { readFileSync } from 'node:fs';

/**
 * `file:start-end` covering one top-level function, found by its signature,
 * so the range follows the code when lines above it move. Only the gateway's
 * sampling functions are mutated in these two files; the rest of them is
 * model and HTTP code outside the trust core.
 */
function fnRange(file, signature) {
  const lines = readFileSync(new URL(file, import.meta.url), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith(signature));
  if (start < 0) throw new Error(`stryker.config.mjs: ${signature} not found in ${file}`);
  const end = lines.findIndex((l, i) => i > start && l === '}');
  if (end < 0) throw new Error(`stryker.config.mjs: end of ${signature} not found in ${file}`);
  return `${file}:${start + 1}-${end + 1}`;
}

export const trustCore = [
  'src/core/canonical-json.ts',
  'src/protocol/**/*.ts',
  'src/ledger/**/*.ts',
  'src/tracker/validation/**/*.ts',
  'src/train/diloco/aggregate.ts',
  fnRange('src/model/generate.ts', 'export function sampleToken('),
  fnRange('src/gateway/generation.ts', 'export function choiceRng('),
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  $schema: './node_modules/@stryker-mutator/core/schema/stryker-schema.json',
  packageManager: 'npm',
  testRunner: 'vitest',
  // only the fast unit tests of the trust core (vitest.stryker.config.ts)
  vitest: { configFile: 'vitest.stryker.config.ts' },
  checkers: ['typescript'],
  // the checker type-checks the mutated files and what they import, not the whole repository
  tsconfigFile: 'tsconfig.stryker.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: trustCore,
  // error messages are not mutated (stryker-ignore-messages.mjs); their codes are
  plugins: ['@stryker-mutator/*', './stryker-ignore-messages.mjs'],
  ignorers: ['error-messages'],
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants such as the zod schemas and
  // default policies) would each need every test file re-run; they are left
  // out for time and reported as ignored.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  concurrency: 2,
  timeoutMS: 10_000,
  timeoutFactor: 2,
  // vitest does not type-check, so the sandbox needs no @ts-nocheck
  disableTypeChecks: false,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['reports', '.swarm', 'checkpoints', 'coverage', 'docs', '*.log'],
  thresholds: { high: 90, low: 80, break: null },
};
