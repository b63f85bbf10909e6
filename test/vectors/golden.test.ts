/** Golden vectors: every backend (ref, wasm, native on each ISA path this CPU has) must reproduce the stored SHA-256 of every op's output. */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { createNativeBackend, NATIVE_ISAS, nativeStatus } from '../../src/tensor/native/backend.ts';
import { createWasmBackend } from '../../src/tensor/wasm/backend.ts';
import { CASES, hashCase, hashF32 } from './cases.ts';

const golden = JSON.parse(readFileSync(new URL('./kernels.json', import.meta.url), 'utf8')) as Record<string, string[]>;

describe('golden vectors', () => {
  it('cover every case', () => {
    expect(Object.keys(golden).sort()).toEqual(CASES.map((c) => c.name).sort());
  });

  it('hash canonicalises NaN payloads and distinguishes -0', () => {
    const a = new Float32Array([NaN, 0]);
    const b = new Float32Array(2);
    new Uint32Array(b.buffer)[0] = 0xffc00001; // a different NaN
    expect(hashF32(a)).toBe(hashF32(b));
    expect(hashF32(new Float32Array([0]))).not.toBe(hashF32(new Float32Array([-0])));
  });

  const ref = new Engine(createRefBackend());
  for (const c of CASES) {
    it(`ref: ${c.name}`, () => {
      expect(hashCase(ref, c)).toEqual(golden[c.name]);
    });
  }

  describe('wasm (1 and 2 threads)', async () => {
    const w1 = await createWasmBackend({ threads: 1 });
    const w2 = await createWasmBackend({ threads: 2 });
    afterAll(() => {
      w1.close();
      w2.close();
    });
    for (const c of CASES) {
      it(`wasm: ${c.name}`, () => {
        expect(hashCase(new Engine(w1), c)).toEqual(golden[c.name]);
        expect(hashCase(new Engine(w2), c)).toEqual(golden[c.name]);
      });
    }
  });

  const native = nativeStatus();
  for (const isa of NATIVE_ISAS) {
    const skip = !native.available ? native.reason : native.isas.includes(isa) ? undefined : `this CPU has no ${isa} path`;
    describe.skipIf(skip !== undefined)(`native ${isa} (1 and 2 threads)${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
      const n1 = skip === undefined ? createNativeBackend({ isa, threads: 1 }) : undefined;
      const n2 = skip === undefined ? createNativeBackend({ isa, threads: 2 }) : undefined;
      afterAll(() => {
        n1?.close();
        n2?.close();
      });
      for (const c of CASES) {
        it(`native ${isa}: ${c.name}`, () => {
          expect(hashCase(new Engine(n1!), c)).toEqual(golden[c.name]);
          expect(hashCase(new Engine(n2!), c)).toEqual(golden[c.name]);
        });
      }
    });
  }
});
