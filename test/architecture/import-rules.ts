/**
 * The import graph is the architecture (DESIGN.md, "Layout"): this checker
 * turns its arrows into a test. It parses every src/**\/*.ts file with the
 * TypeScript compiler (so specifiers in comments or strings are not mistaken
 * for imports, and `import type`, `export ... from`, `import x = require()`,
 * `require()`, `import('...')` calls and `import('...').T` type references are
 * all seen), resolves each relative specifier to its src/<layer>/ folder, and
 * reports:
 *  - layer      an import against the arrows of LAYER_DEPS
 *  - peer       tracker / provider / gateway importing one another (cli wires them)
 *  - unknown-layer / outside-src   files or targets outside the known layers
 *  - dynamic-import   import() of a computed specifier (it would hide an arrow)
 *  - io-module  a no-I/O layer importing an I/O module (node:fs, net, ...)
 *  - nondeterminism   a no-I/O layer reading the environment, the process,
 *               the network, the time or Math.random (time comes from Clock,
 *               randomness from the seeded Prng)
 *  - cycle      files that import each other, directly or around a longer
 *               loop, by any of the forms above (type-only included); the
 *               message names the loop (./cycles.ts finds it)
 * Exported as a pure function over {path, text} so its own test can feed it
 * violating files and watch it fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';
import { findCycles } from './cycles.ts';

export interface SourceText {
  /** repository-relative, '/'-separated, e.g. "src/core/prng.ts" */
  path: string;
  text: string;
}

export type RuleId = 'layer' | 'peer' | 'unknown-layer' | 'outside-src' | 'dynamic-import' | 'io-module' | 'nondeterminism' | 'cycle';

export interface Violation {
  file: string;
  line: number;
  rule: RuleId;
  message: string;
  specifier?: string;
}

export const LAYERS = [
  'core', 'tensor', 'model', 'train', 'ledger', 'protocol',
  'tracker', 'provider', 'gateway', 'web', 'cli',
] as const;
export type Layer = (typeof LAYERS)[number];

/** Allowed targets per layer (a layer may always import itself). '*' = anything. */
export const LAYER_DEPS: Record<Layer, readonly Layer[] | '*'> = {
  core: [],
  tensor: ['core'],
  model: ['tensor', 'core'],
  train: ['model', 'tensor', 'core'],
  ledger: ['core'],
  protocol: ['core', 'ledger'],
  tracker: ['protocol', 'ledger', 'train', 'model', 'tensor', 'core'],
  provider: ['protocol', 'train', 'model', 'tensor', 'core'],
  gateway: ['model', 'tensor', 'core'],
  // the dashboard (src/web): the browser reuses the proof checks and provider core, never node: modules
  web: ['protocol', 'ledger', 'provider', 'core'],
  cli: '*',
};

/** The three long-running roles; only cli may compose them. */
const PEERS: readonly Layer[] = ['tracker', 'provider', 'gateway'];

/** Layers that must stay pure: same inputs, same bytes, on any machine. */
export const NO_IO_LAYERS: readonly Layer[] = ['core', 'tensor', 'ledger', 'protocol'];

/**
 * Node built-ins that do I/O or expose the process (compared after dropping
 * "node:" and any subpath, so "node:fs/promises" is "fs"). node:crypto is
 * pure computation and allowed; worker_threads only in tensor, whose kernels
 * run in a worker.
 */
const IO_BUILTINS = new Set([
  'fs', 'net', 'http', 'https', 'http2', 'child_process', 'dgram', 'dns', 'tls',
  'readline', 'os', 'cluster', 'process', 'module', 'inspector', 'repl', 'tty', 'wasi', 'worker_threads',
]);
const BUILTIN_ALLOWED_IN: Record<string, readonly Layer[]> = { worker_threads: ['tensor'] };

/** Third-party packages that do network, database, file or process I/O. */
const IO_PACKAGES = [
  'undici', 'node-fetch', 'cross-fetch', 'axios', 'got', 'ky', 'ws', 'isomorphic-ws',
  'socket.io', 'socket.io-client', 'pg', 'postgres', '@electric-sql/pglite', 'better-sqlite3',
  'sqlite3', 'hono', '@hono/node-server', 'express', 'fastify', 'koa', 'fs-extra',
  'graceful-fs', 'chokidar', 'execa', 'cross-spawn', 'dotenv', 'commander',
];

/**
 * Member reads that are forbidden in no-I/O layers, with the reason.
 * performance.now / process.hrtime are left out on purpose: kernel benchmarks
 * measure durations with them, and they give no wall-clock time. (A kernel
 * that branched on a duration would still break determinism; review catches
 * that, this list does not.)
 */
const FORBIDDEN_MEMBERS: Record<string, string> = {
  'process.env': 'reads the environment',
  'process.argv': 'reads the command line',
  'process.stdout': 'writes to the terminal',
  'process.stderr': 'writes to the terminal',
  'process.stdin': 'reads the terminal',
  'process.exit': 'ends the process',
  'process.cwd': 'reads the working directory',
  'Date.now': 'reads the time (inject a Clock)',
  'Math.random': 'unseeded randomness (use core/prng.ts)',
};

/**
 * Deliberate exceptions, each with its reason: the system clock has to be
 * read somewhere, and core/clock.ts is where it is wrapped behind Clock.
 */
const EXCEPTIONS: readonly { file: string; what: string }[] = [
  { file: 'src/core/clock.ts', what: 'Date.now' },
  // The native kernels are a file that must be read and loaded somewhere;
  // load.ts is that one place, and ./backend.ts checks what it loaded (ABI,
  // self-test against ref) before any kernel runs. SWARM_NATIVE_PATH and
  // SWARM_ISA choose a build and an ISA path, never a result bit.
  { file: 'src/tensor/native/load.ts', what: 'fs' },
  { file: 'src/tensor/native/load.ts', what: 'module' },
  { file: 'src/tensor/native/load.ts', what: 'process.env' },
];

/** Which src files the checker reads: TS sources except AssemblyScript and generated code. */
export function isCheckedPath(path: string): boolean {
  return (
    path.startsWith('src/') &&
    path.endsWith('.ts') &&
    !path.startsWith('src/tensor/wasm/assembly/') &&
    !path.endsWith('.generated.ts')
  );
}

/** The layer of a repository-relative path under src/, or undefined. */
export function layerOf(path: string): Layer | undefined {
  const m = /^src\/([^/]+)\//.exec(path);
  return m && (LAYERS as readonly string[]).includes(m[1]!) ? (m[1] as Layer) : undefined;
}

interface ImportRef {
  specifier: string | undefined; // undefined: computed dynamic import
  line: number;
  kind: string;
}

interface GlobalRef {
  name: string;
  line: number;
  reason: string;
}

const GLOBAL_PREFIXES = ['globalThis.', 'global.', 'window.', 'self.'];

/** "a.b.c" for a chain of identifiers / string-literal element accesses, else undefined. */
function dottedName(node: ts.Node): string | undefined {
  if (ts.isIdentifier(node)) return node.text;
  if (ts.isPropertyAccessExpression(node)) {
    const left = dottedName(node.expression);
    return left === undefined ? undefined : `${left}.${node.name.text}`;
  }
  if (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression)) {
    const left = dottedName(node.expression);
    return left === undefined ? undefined : `${left}.${node.argumentExpression.text}`;
  }
  if (ts.isParenthesizedExpression(node)) return dottedName(node.expression);
  return undefined;
}

function stripGlobal(name: string): string {
  for (const p of GLOBAL_PREFIXES) if (name.startsWith(p)) return name.slice(p.length);
  return name;
}

function scan(file: SourceText): { imports: ImportRef[]; globals: GlobalRef[] } {
  const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const imports: ImportRef[] = [];
  const globals: GlobalRef[] = [];
  const lineOf = (node: ts.Node): number => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const literal = (node: ts.Node | undefined): string | undefined =>
    node !== undefined && ts.isStringLiteralLike(node) ? node.text : undefined;

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const typeOnly = node.importClause?.isTypeOnly === true;
      imports.push({ specifier: literal(node.moduleSpecifier), line: lineOf(node), kind: typeOnly ? 'import type' : 'import' });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      imports.push({ specifier: literal(node.moduleSpecifier), line: lineOf(node), kind: 'export from' });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      imports.push({ specifier: literal(node.moduleReference.expression), line: lineOf(node), kind: 'import = require' });
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      const spec = ts.isLiteralTypeNode(arg) ? literal(arg.literal) : undefined;
      imports.push({ specifier: spec, line: lineOf(node), kind: 'import() type' });
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword) {
        imports.push({ specifier: literal(node.arguments[0]), line: lineOf(node), kind: 'dynamic import' });
      } else if (ts.isIdentifier(callee) && callee.text === 'require' && node.arguments.length === 1) {
        imports.push({ specifier: literal(node.arguments[0]), line: lineOf(node), kind: 'require' });
      } else {
        const name = dottedName(callee);
        const bare = name === undefined ? undefined : stripGlobal(name);
        if (bare === 'fetch') globals.push({ name: 'fetch(', line: lineOf(node), reason: 'does network I/O' });
        if (bare === 'Date') globals.push({ name: 'Date(', line: lineOf(node), reason: 'reads the time (inject a Clock)' });
      }
    } else if (ts.isNewExpression(node)) {
      const name = dottedName(node.expression);
      if (name !== undefined && stripGlobal(name) === 'Date') {
        globals.push({ name: 'new Date(', line: lineOf(node), reason: 'reads the time or the time zone (inject a Clock)' });
      }
    } else if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) {
      const name = dottedName(node);
      if (name !== undefined) {
        const bare = stripGlobal(name);
        const reason = FORBIDDEN_MEMBERS[bare];
        // Report `process.env` once, not again for `process.env.X` around it.
        if (reason !== undefined) {
          globals.push({ name: bare, line: lineOf(node), reason });
          return;
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { imports, globals };
}

/** "fs" for "node:fs/promises", "@scope/pkg" for "@scope/pkg/sub". */
function packageName(spec: string): string {
  const s = spec.startsWith('node:') ? spec.slice(5) : spec;
  const parts = s.split('/');
  return s.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The checked file a relative import's normalised target names, if any ("x.js" and "x" name "x.ts", a folder its index.ts). */
function resolveFile(target: string, known: ReadonlySet<string>): string | undefined {
  return [target, target.replace(/\.js$/, '.ts'), `${target}.ts`, `${target}/index.ts`].find((c) => known.has(c));
}

/** Checks every file against the layer arrows, the no-I/O rules and the no-cycle rule. */
export function checkImportRules(files: readonly SourceText[]): Violation[] {
  const out: Violation[] = [];
  const known = new Set(files.map((f) => f.path.split('\\').join('/')).filter(isCheckedPath));
  /** file → the checked files it imports, and the line of the first import of each */
  const graph = new Map<string, string[]>();
  const edgeLine = new Map<string, number>();
  for (const file of files) {
    const path = file.path.split('\\').join('/');
    if (!isCheckedPath(path)) continue;
    graph.set(path, []);
    const from = layerOf(path);
    if (from === undefined) {
      out.push({ file: path, line: 1, rule: 'unknown-layer', message: 'file is not in a known src/<layer>/ folder (add the layer to LAYER_DEPS and DESIGN.md)' });
      continue;
    }
    const allowed = LAYER_DEPS[from];
    const pure = NO_IO_LAYERS.includes(from);
    const { imports, globals } = scan({ path, text: file.text });

    for (const imp of imports) {
      const spec = imp.specifier;
      if (spec === undefined) {
        if (from !== 'cli') {
          out.push({ file: path, line: imp.line, rule: 'dynamic-import', message: `${imp.kind} with a computed specifier hides its target from the layer check` });
        }
        continue;
      }
      if (spec.startsWith('/') || /^[A-Za-z]:[\\/]/.test(spec) || spec.startsWith('file:')) {
        out.push({ file: path, line: imp.line, rule: 'outside-src', specifier: spec, message: `${imp.kind} uses an absolute path; use a relative specifier` });
        continue;
      }
      if (spec.startsWith('.')) {
        const target = posix.normalize(posix.join(posix.dirname(path), spec));
        const dep = resolveFile(target, known);
        if (dep !== undefined && !edgeLine.has(`${path}\n${dep}`)) {
          graph.get(path)!.push(dep);
          edgeLine.set(`${path}\n${dep}`, imp.line);
        }
        // "src/core" (a folder) and "src/core/x.ts" both name layer core.
        const to = layerOf(`${target}/`);
        if (!target.startsWith('src/')) {
          out.push({ file: path, line: imp.line, rule: 'outside-src', specifier: spec, message: `${imp.kind} reaches outside src/ (${target})` });
        } else if (to === undefined) {
          out.push({ file: path, line: imp.line, rule: 'unknown-layer', specifier: spec, message: `${imp.kind} targets ${target}, which is in no known layer` });
        } else if (to !== from && allowed !== '*' && !allowed.includes(to)) {
          const peer = PEERS.includes(from) && PEERS.includes(to);
          out.push({
            file: path,
            line: imp.line,
            rule: peer ? 'peer' : 'layer',
            specifier: spec,
            message: peer
              ? `${from} may not import ${to}: tracker, provider and gateway never import each other (cli wires them)`
              : `${from} may not import ${to} (${imp.kind}); ${from} may import ${allowed.length ? allowed.join(', ') : 'nothing internal'}`,
          });
        }
        continue;
      }
      if (!pure) continue;
      const pkg = packageName(spec);
      const builtin = spec.startsWith('node:') || IO_BUILTINS.has(pkg);
      if (builtin && IO_BUILTINS.has(pkg) && !(BUILTIN_ALLOWED_IN[pkg] ?? []).includes(from) && !EXCEPTIONS.some((e) => e.file === path && e.what === pkg)) {
        out.push({ file: path, line: imp.line, rule: 'io-module', specifier: spec, message: `${from} is a no-I/O layer and may not import ${spec}` });
      } else if (!builtin && IO_PACKAGES.includes(pkg)) {
        out.push({ file: path, line: imp.line, rule: 'io-module', specifier: spec, message: `${from} is a no-I/O layer and may not import the I/O package ${pkg}` });
      }
    }

    if (pure) {
      for (const g of globals) {
        if (EXCEPTIONS.some((e) => e.file === path && e.what === g.name)) continue;
        out.push({ file: path, line: g.line, rule: 'nondeterminism', message: `${g.name} ${g.reason}; ${from} is a no-I/O layer` });
      }
    }
  }
  for (const cycle of findCycles(graph)) {
    out.push({
      file: cycle[0]!,
      line: edgeLine.get(`${cycle[0]}\n${cycle[1]}`) ?? 1,
      rule: 'cycle',
      message: `import cycle: ${cycle.join(' → ')} (type-only imports count too; move what both need into a file of its own)`,
    });
  }
  return out;
}

/** Reads every checked file under <root>/src. */
export function loadSourceTree(root: string): SourceText[] {
  const files: SourceText[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, entry.name);
      if (entry.isDirectory()) walk(abs);
      else if (entry.isFile()) {
        const path = relative(root, abs).split(sep).join('/');
        if (isCheckedPath(path)) files.push({ path, text: readFileSync(abs, 'utf8') });
      }
    }
  };
  walk(join(root, 'src'));
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** One line per violation, for readable test failures. */
export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.file}:${v.line} [${v.rule}] ${v.message}`).join('\n');
}
