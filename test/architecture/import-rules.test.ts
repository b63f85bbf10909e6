import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  LAYERS,
  LAYER_DEPS,
  checkImportRules,
  formatViolations,
  isCheckedPath,
  layerOf,
  loadSourceTree,
  type SourceText,
  type Violation,
} from './import-rules.ts';
import { cyclicComponents, findCycles } from './cycles.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function check(path: string, text: string): Violation[] {
  return checkImportRules([{ path, text }]);
}

describe('the real source tree', () => {
  const files = loadSourceTree(ROOT);

  it('finds the source files (and skips AssemblyScript and generated code)', () => {
    const paths = files.map((f) => f.path);
    expect(paths).toContain('src/core/errors.ts');
    expect(paths).toContain('src/core/prng.ts');
    expect(paths.some((p) => p.startsWith('src/tensor/wasm/assembly/'))).toBe(false);
    expect(paths.some((p) => p.endsWith('.generated.ts'))).toBe(false);
  });

  it('follows every arrow of DESIGN.md and has no import cycle', () => {
    const violations = checkImportRules(files);
    expect(formatViolations(violations)).toBe('');
  });
});

describe('layer arrows', () => {
  it('reports a tracker file importing provider, with file, line and reason', () => {
    const v = check('src/tracker/scheduler.ts', "import { x } from '../core/errors.ts';\nimport { pull } from '../provider/pull.ts';\n");
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ file: 'src/tracker/scheduler.ts', line: 2, rule: 'peer', specifier: '../provider/pull.ts' });
    expect(v[0]!.message).toMatch(/tracker may not import provider/);
  });

  it('forbids every pair of the three roles, in both directions', () => {
    for (const a of ['tracker', 'provider', 'gateway']) {
      for (const b of ['tracker', 'provider', 'gateway']) {
        if (a === b) continue;
        const v = check(`src/${a}/x.ts`, `import '../${b}/y.ts';`);
        expect(v.map((x) => x.rule)).toEqual(['peer']);
      }
    }
  });

  it('reports core importing anything internal', () => {
    const v = check('src/core/x.ts', "import type { Tensor } from '../tensor/tensor.ts';");
    expect(v).toMatchObject([{ file: 'src/core/x.ts', rule: 'layer', line: 1 }]);
    expect(v[0]!.message).toMatch(/core may not import tensor \(import type\); core may import nothing internal/);
  });

  it('reports a dynamic import across layers', () => {
    const v = check('src/model/loader.ts', "export async function f() {\n  return await import('../train/unit.ts');\n}\n");
    expect(v).toMatchObject([{ file: 'src/model/loader.ts', line: 2, rule: 'layer', specifier: '../train/unit.ts' }]);
    expect(v[0]!.message).toMatch(/dynamic import/);
  });

  it('sees re-exports, require, import-equals and import() types', () => {
    const text = [
      "export { a } from '../ledger/a.ts';",
      "export * from '../ledger/b.ts';",
      "const c = require('../ledger/c.ts');",
      "import d = require('../ledger/d.ts');",
      "type E = import('../ledger/e.ts').E;",
    ].join('\n');
    const v = check('src/gateway/x.ts', text);
    expect(v.map((x) => [x.line, x.rule, x.specifier])).toEqual([
      [1, 'layer', '../ledger/a.ts'],
      [2, 'layer', '../ledger/b.ts'],
      [3, 'layer', '../ledger/c.ts'],
      [4, 'layer', '../ledger/d.ts'],
      [5, 'layer', '../ledger/e.ts'],
    ]);
  });

  it('reports computed dynamic imports outside cli', () => {
    const text = 'export const load = (name: string) => import(`../${name}/index.ts`);';
    expect(check('src/train/x.ts', text)).toMatchObject([{ rule: 'dynamic-import', line: 1 }]);
    expect(check('src/cli/x.ts', text)).toEqual([]);
  });

  it('allows every arrow of the table, same-layer imports and cli importing anything', () => {
    for (const from of LAYERS) {
      const deps = LAYER_DEPS[from];
      const targets = deps === '*' ? LAYERS : [from, ...deps];
      const text = targets.map((to) => `import '../${to}/x.ts';`).join('\n');
      expect(check(`src/${from}/b.ts`, text)).toEqual([]);
    }
  });

  it('rejects every arrow missing from the table', () => {
    for (const from of LAYERS) {
      const deps = LAYER_DEPS[from];
      if (deps === '*') continue;
      for (const to of LAYERS) {
        if (to === from || deps.includes(to)) continue;
        const v = check(`src/${from}/x.ts`, `import '../${to}/y.ts';`);
        expect(v, `${from} -> ${to}`).toHaveLength(1);
      }
    }
  });

  it('resolves nested relative paths to their layer', () => {
    expect(check('src/tensor/backend/ref.ts', "import '../../core/errors.ts';")).toEqual([]);
    expect(check('src/tensor/backend/ref.ts', "import '../../model/llama.ts';")).toMatchObject([{ rule: 'layer' }]);
    expect(check('src/tensor/backend/ref.ts', "import '../backend.ts';")).toEqual([]);
  });

  it('reports imports that leave src/ or target no known layer', () => {
    expect(check('src/core/x.ts', "import '../../test/helpers.ts';")).toMatchObject([{ rule: 'outside-src' }]);
    expect(check('src/core/x.ts', "import '/abs/file.ts';")).toMatchObject([{ rule: 'outside-src' }]);
    expect(check('src/core/x.ts', "import '../misc/y.ts';")).toMatchObject([{ rule: 'unknown-layer' }]);
    expect(check('src/misc/x.ts', '')).toMatchObject([{ rule: 'unknown-layer', file: 'src/misc/x.ts' }]);
  });

  it('ignores specifiers inside comments and strings', () => {
    const text = "// import '../provider/x.ts'\nconst s = \"import '../provider/x.ts'\";\n/* Date.now() Math.random() */\n";
    expect(check('src/tracker/x.ts', text)).toEqual([]);
    expect(check('src/core/x.ts', text)).toEqual([]);
  });
});

describe('no-I/O layers', () => {
  it('reports a core file importing node:fs', () => {
    const v = check('src/core/store.ts', "import { readFileSync } from 'node:fs';");
    expect(v).toMatchObject([{ file: 'src/core/store.ts', line: 1, rule: 'io-module', specifier: 'node:fs' }]);
    expect(v[0]!.message).toMatch(/no-I\/O layer/);
  });

  it('reports I/O built-ins with or without node:, and their subpaths', () => {
    for (const spec of ['fs', 'fs/promises', 'node:fs/promises', 'net', 'http', 'node:https', 'http2', 'child_process', 'dgram', 'dns', 'tls', 'readline', 'node:os', 'node:process']) {
      for (const layer of ['core', 'tensor', 'ledger', 'protocol']) {
        expect(check(`src/${layer}/x.ts`, `import * as m from '${spec}';`), `${layer} ${spec}`).toMatchObject([{ rule: 'io-module' }]);
      }
    }
  });

  it('reports third-party I/O packages', () => {
    expect(check('src/ledger/x.ts', "import { Hono } from 'hono';")).toMatchObject([{ rule: 'io-module' }]);
    expect(check('src/protocol/x.ts', "import pg from '@electric-sql/pglite/worker';")).toMatchObject([{ rule: 'io-module' }]);
    expect(check('src/protocol/x.ts', "import { z } from 'zod';")).toEqual([]);
  });

  it('allows node:crypto everywhere and worker_threads only in tensor', () => {
    expect(check('src/core/x.ts', "import { createHash } from 'node:crypto';")).toEqual([]);
    expect(check('src/ledger/x.ts', "import { verify } from 'crypto';")).toEqual([]);
    expect(check('src/tensor/x.ts', "import { Worker } from 'node:worker_threads';")).toEqual([]);
    expect(check('src/core/x.ts', "import { Worker } from 'node:worker_threads';")).toMatchObject([{ rule: 'io-module' }]);
  });

  it('reports a tensor file using Math.random', () => {
    const v = check('src/tensor/init.ts', 'export function noise(): number {\n  return Math.random();\n}\n');
    expect(v).toMatchObject([{ file: 'src/tensor/init.ts', line: 2, rule: 'nondeterminism' }]);
    expect(v[0]!.message).toMatch(/Math\.random/);
  });

  it('reports environment, process, network and time access', () => {
    const cases: [string, RegExp][] = [
      ['const a = process.env.HOME;', /process\.env/],
      ["const a = process['env'];", /process\.env/],
      ['const a = globalThis.process.env;', /process\.env/],
      ["process.stdout.write('x');", /process\.stdout/],
      ["process.stderr.write('x');", /process\.stderr/],
      ['process.stdin.read();', /process\.stdin/],
      ['process.exit(1);', /process\.exit/],
      ["await fetch('http://x');", /fetch\(/],
      ["await globalThis.fetch('http://x');", /fetch\(/],
      ['const t = Date.now();', /Date\.now/],
      ['const now = Date.now;', /Date\.now/],
      ['const d = new Date();', /new Date\(/],
      ['const d = new Date(0);', /new Date\(/],
      ['const d = Date();', /Date\(/],
      ['const r = Math.random;', /Math\.random/],
    ];
    for (const [text, re] of cases) {
      const v = check('src/protocol/x.ts', text);
      expect(v, text).toHaveLength(1);
      expect(v[0]!.rule).toBe('nondeterminism');
      expect(v[0]!.message).toMatch(re);
    }
  });

  it('does not apply the I/O rules outside the pure layers', () => {
    const text = "import { readFileSync } from 'node:fs';\nconst t = Date.now();\nconst e = process.env.X;\nconst r = Math.random();";
    for (const layer of ['model', 'train', 'tracker', 'provider', 'gateway', 'web', 'cli']) {
      expect(check(`src/${layer}/x.ts`, text)).toEqual([]);
    }
  });

  it('lets core/clock.ts, and only it, read Date.now', () => {
    const text = 'export const now = () => Date.now();';
    expect(check('src/core/clock.ts', text)).toEqual([]);
    expect(check('src/core/other.ts', text)).toMatchObject([{ rule: 'nondeterminism' }]);
    expect(check('src/core/clock.ts', 'const r = Math.random();')).toMatchObject([{ rule: 'nondeterminism' }]);
  });

  it('allows duration timers (performance.now) for benchmarks', () => {
    expect(check('src/tensor/bench.ts', 'const t0 = performance.now();')).toEqual([]);
  });

  it('does not confuse local names with the globals', () => {
    const text = 'const o = { now: () => 1, env: 2 };\nconst a = o.now();\nconst b = this_.process.env;\nconst c = rng.random();\nclass C { fetch() { return 1; } run() { return this.fetch(); } }';
    expect(check('src/core/x.ts', text)).toEqual([]);
  });
});

describe('file selection', () => {
  it('skips AssemblyScript, generated code, and non-src files', () => {
    expect(isCheckedPath('src/tensor/wasm/assembly/math.ts')).toBe(false);
    expect(isCheckedPath('src/tensor/wasm/kernels.generated.ts')).toBe(false);
    expect(isCheckedPath('test/core/x.test.ts')).toBe(false);
    expect(isCheckedPath('src/core/x.ts')).toBe(true);
    const files: SourceText[] = [
      { path: 'src/tensor/wasm/assembly/math.ts', text: "import '../../../provider/x.ts'; Math.random();" },
      { path: 'src/tensor/wasm/kernels.generated.ts', text: 'Math.random();' },
    ];
    expect(checkImportRules(files)).toEqual([]);
  });

  it('maps paths to layers', () => {
    expect(layerOf('src/core/x.ts')).toBe('core');
    expect(layerOf('src/tensor/backend/ref.ts')).toBe('tensor');
    expect(layerOf('src/x.ts')).toBeUndefined();
    expect(layerOf('test/core/x.ts')).toBeUndefined();
  });
});

describe('import cycles', () => {
  const graph = (edges: Record<string, string[]>): Map<string, string[]> => new Map(Object.entries(edges));

  it('finds no cycle in a graph without one', () => {
    expect(findCycles(graph({ a: ['b', 'c'], b: ['c'], c: [] }))).toEqual([]);
  });

  it('finds a two-file cycle, a longer one, and a self-import, each as a path back to its start', () => {
    const g = graph({ a: ['b'], b: ['a'], c: ['d'], d: ['e'], e: ['c', 'a'], s: ['s'], z: ['a'] });
    expect(findCycles(g)).toEqual([
      ['a', 'b', 'a'],
      ['c', 'd', 'e', 'c'],
      ['s', 's'],
    ]);
  });

  it('reports the shortest cycle through the first file of a component, and the whole component', () => {
    // a → b → c → a and a → c → a share one component; the shorter loop is named
    const g = graph({ a: ['b', 'c'], b: ['c'], c: ['a'] });
    expect(cyclicComponents(g)).toEqual([['a', 'b', 'c']]);
    expect(findCycles(g)).toEqual([['a', 'c', 'a']]);
  });

  it('reports a type-only cycle with its path, file and line', () => {
    const v = checkImportRules([
      { path: 'src/tracker/service.ts', text: "import { x } from '../core/errors.ts';\nimport { inspect } from './unit-inspector.ts';\n" },
      { path: 'src/tracker/unit-inspector.ts', text: "import type { UnitInspection } from './service.ts';\n" },
      { path: 'src/core/errors.ts', text: 'export const x = 1;\n' },
    ]);
    expect(v).toMatchObject([{ file: 'src/tracker/service.ts', line: 2, rule: 'cycle' }]);
    expect(v[0]!.message).toContain('import cycle: src/tracker/service.ts → src/tracker/unit-inspector.ts → src/tracker/service.ts');
  });

  it("sees re-exports, import() types and a folder's index.ts as edges", () => {
    const v = checkImportRules([
      { path: 'src/train/a.ts', text: "export { b } from './b.ts';\n" },
      { path: 'src/train/b.ts', text: "export type C = import('./c').C;\n" },
      { path: 'src/train/c/index.ts', text: "import '../a.js';\n" },
    ]);
    expect(v.map((x) => [x.rule, x.message.split(' (')[0]])).toEqual([
      ['cycle', 'import cycle: src/train/a.ts → src/train/b.ts → src/train/c/index.ts → src/train/a.ts'],
    ]);
  });

  it('ignores imports of files outside the checked set', () => {
    expect(checkImportRules([{ path: 'src/train/a.ts', text: "import './gone.ts';\nimport x from 'zod';\n" }])).toEqual([]);
  });
});
