/**
 * A backend's fused AdamW update (Backend.adamwUpdate, the native backend's C
 * kernel on every ISA path this CPU has) must give the bits of adamw.ts's own
 * loop, its reference twin: parameters, first and second moments, with and
 * without clipping and weight decay, over many steps and corner-case values.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/tensor/backend/backend.ts';
import { createNativeBackend, NATIVE_ISAS, nativeStatus } from '../../src/tensor/native/backend.ts';
import { adamwStep, DILOCO_INNER, initAdamW } from '../../src/train/adamw.ts';
import type { AdamWHyper } from '../../src/train/adamw.ts';

const status = nativeStatus();

function bits(x: Float32Array): string {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex');
}

const value = fc.oneof(
  fc.float({ min: -4, max: 4, noNaN: true }),
  fc.constantFrom(0, -0, 1e-40, -1e-38, 1e-8, 3e4, -7.5),
);
const tensors = fc.array(fc.integer({ min: 1, max: 37 }), { minLength: 1, maxLength: 4 }).chain((sizes) =>
  fc.record({
    params: fc.tuple(...sizes.map((n) => fc.array(value, { minLength: n, maxLength: n }))),
    grads: fc.array(fc.tuple(...sizes.map((n) => fc.array(value, { minLength: n, maxLength: n }))), { minLength: 1, maxLength: 4 }),
    decay: fc.array(fc.boolean(), { minLength: sizes.length, maxLength: sizes.length }),
    clip: fc.constantFrom(0, 1, 1e-3, 1e6),
    lr: fc.constantFrom(4e-4, 3e-3, 1),
  }),
);

for (const isa of NATIVE_ISAS) {
  const skip = !status.available ? `skipped: ${status.reason}` : status.isas.includes(isa) ? undefined : `skipped: this CPU has no ${isa} path`;
  describe.skipIf(skip !== undefined)(`native ${isa} adamwUpdate vs adamw.ts${skip === undefined ? '' : ` (${skip})`}`, () => {
    let be: Backend | undefined;
    const backend = (): Backend => (be ??= createNativeBackend({ isa }));
    afterAll(() => be?.close());

    it('gives the same parameters and moments, bit for bit, over several steps', () => {
      const fused = backend().adamwUpdate?.bind(backend());
      expect(fused).toBeTypeOf('function');
      fc.assert(
        fc.property(tensors, ({ params, grads, decay, clip, lr }) => {
          const hyper: AdamWHyper = { ...DILOCO_INNER, clip };
          const a = params.map((p) => Float32Array.from(p));
          const b = params.map((p) => Float32Array.from(p));
          const sa = initAdamW(a.map((p) => p.length));
          const sb = initAdamW(b.map((p) => p.length));
          for (const g of grads) {
            const gs = g.map((x) => Float32Array.from(x));
            const ra = adamwStep(a, gs, decay, sa, hyper, lr);
            const rb = adamwStep(b, gs, decay, sb, hyper, lr, fused);
            expect(rb).toEqual(ra);
          }
          expect(a.map(bits)).toEqual(b.map(bits));
          expect(sa.m.map(bits)).toEqual(sb.m.map(bits));
          expect(sa.v.map(bits)).toEqual(sb.v.map(bits));
        }),
        { numRuns: 200 },
      );
    });
  });
}
