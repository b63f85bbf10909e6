/**
 * The esbuild plugin behind the browser bundles' twins: a relative import of
 * `X.ts` resolves to `X.browser.ts` when that file exists (as bundlers honour
 * package.json's "browser" field). Used by scripts/build-web.mjs and by the
 * tests that bundle a browser module of their own; src/web/tsconfig.json
 * type-checks with the same rule (moduleSuffixes).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const browserTwins = {
  name: 'browser-twins',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\/.*\.ts$/ }, (a) => {
      const twin = resolve(a.resolveDir, a.path).replace(/\.ts$/, '.browser.ts');
      return existsSync(twin) ? { path: twin } : undefined;
    });
  },
};
