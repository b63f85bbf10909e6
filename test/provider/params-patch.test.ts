/**
 * A provider and the int8 downlink (issue 7): when a work assignment names a
 * params patch and the provider holds its base, it downloads the small
 * update and rebuilds the params instead of downloading them; when the
 * update is bad (a hostile or broken tracker), it falls back to the full
 * download, and either way it runs the unit on the right parameters.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { preset } from '../../src/model/config.ts';
import { MemoryBlobCache } from '../../src/provider/blob-cache.ts';
import { ProviderLoop } from '../../src/provider/loop.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { initGlobalState, outerRound } from '../../src/train/diloco/checkpoint.ts';
import { DILOCO_OUTER } from '../../src/train/diloco/outer.ts';
import { decodeParamsBlob, encodeParamsBlob } from '../../src/train/work/params-blob.ts';
import { runUnit } from '../../src/train/work/run-unit.ts';
import { deltaRows } from '../../src/train/work/train-result.ts';
import { encodeUpdateBlob } from '../../src/train/work/update-blob.ts';
import { keyOf, nanoEvalUnit, startHarness } from '../tracker/harness.ts';
import { refRunner } from '../helpers/runner.ts';

const engine = new Engine(createRefBackend());

async function oneUnit(good: boolean): Promise<{ patched: number; fetched: string[]; resultHash: string | undefined; expected: string; target: string }> {
  const h = await startHarness({ suite: `patch_${good}` });
  try {
    const config = preset('nano');
    const ev = nanoEvalUnit(3);
    const baseBlob = ev.blobs[0]!;
    const theta = decodeParamsBlob(baseBlob, config);
    const rows = deltaRows(config);
    const r = outerRound(initGlobalState(theta, { residual: true }), [Float32Array.from(theta, (_, i) => 1e-3 * Math.sin(i))], { outer: DILOCO_OUTER, aggregate: { kind: 'mean' }, downlinkRows: rows });
    const targetBlob = encodeParamsBlob(config, r.state.theta);
    const target = sha256Hex(targetBlob);
    const q = Int8Array.from(r.update!.q);
    if (!good) q[0] = q[0] === 127 ? 126 : q[0]! + 1;
    const updateBlob = encodeUpdateBlob(config, { base: sha256Hex(baseBlob), target, update: { q, scales: r.update!.scales } });
    const trainer = h.client(h.trainerKey);
    for (const b of [baseBlob, targetBlob, updateBlob, ev.blobs[1]!]) await trainer.putBlob(b);
    const spec = { ...ev.spec, params: target };
    // the tracker names patches for a run's units (runs/diloco.ts); here one unit of a manual run gets one
    await h.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO runs (id, spec, created_at, state, owner) VALUES ('patch-run', '{"kind":"manual"}', 0, 'active', NULL)`);
      await h.service.insertUnits(tx, 'patch-run', [{ id: 'u1', kind: 'eval', spec, minQuorum: 1 }], h.clock.now(), {}, { u1: { target, base: sha256Hex(baseBlob), update: sha256Hex(updateBlob) } });
    });
    const client = h.client(keyOf(60));
    const fetched: string[] = [];
    const getBlob = client.getBlob.bind(client);
    client.getBlob = async (sha: string) => {
      fetched.push(sha);
      return getBlob(sha);
    };
    const cache = new MemoryBlobCache();
    await cache.put(sha256Hex(baseBlob), baseBlob); // it ran a unit on θ_r before
    const loop = new ProviderLoop({ client, runner: refRunner, cache, clock: h.clock, rng: Prng.fromSeed(1), sleep: async () => undefined, name: 'p', threads: 1, memoryBytes: 1, maxUnits: 1 });
    await loop.run();
    const status = await trainer.getJson<{ canonicalHash: string | null; replicas: Array<{ resultHash?: string }> }>('/api/units/u1');
    const expected = runUnit(engine, spec, (x) => (x === target ? targetBlob : ev.blobs[1]!)).resultHash;
    return { patched: loop.patched, fetched, resultHash: status.replicas[0]?.resultHash, expected, target };
  } finally {
    await h.close();
  }
}

describe('params patches at the provider', () => {
  it('a good update: the params are rebuilt from it, never downloaded', async () => {
    const r = await oneUnit(true);
    expect(r.patched).toBe(1);
    expect(r.fetched).not.toContain(r.target);
    expect(r.resultHash).toBe(r.expected);
  }, 60_000);

  it('a bad update: the rebuilt params do not hash to the target, so the params are downloaded whole', async () => {
    const r = await oneUnit(false);
    expect(r.patched).toBe(0);
    expect(r.fetched).toContain(r.target);
    expect(r.resultHash).toBe(r.expected);
  }, 60_000);
});
