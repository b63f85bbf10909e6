/** Regenerates kernels.json from the ref backend (run only when the arithmetic changes on purpose). */
import { writeFileSync } from 'node:fs';
import { Engine } from '../../src/tensor/tensor.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { CASES, hashCase } from './cases.ts';

const e = new Engine(createRefBackend());
const out: Record<string, string[]> = {};
for (const c of CASES) out[c.name] = hashCase(e, c);
writeFileSync(new URL('./kernels.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${Object.keys(out).length} cases`);
