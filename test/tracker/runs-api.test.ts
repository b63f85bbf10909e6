/**
 * POST /api/runs and friends under bad input: a malformed run spec, an id
 * that is not a token, θ₀ not uploaded or of the wrong size, a non-trainer,
 * a duplicate id, a stranger stopping someone's run — each a coded 4xx, and
 * no run is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { DILOCO_INNER } from '../../src/train/adamw.ts';
import { planDilocoRun } from '../../src/train/diloco/plan.ts';
import type { TrackerClient } from '../../src/provider/client.ts';
import { codeOfAsync } from '../helpers/errors.ts';
import { keyOf, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

describe('the runs API under bad input', () => {
  let h: Harness;
  let trainer: TrackerClient;
  const plan = planDilocoRun(new Engine(createRefBackend()), {
    preset: 'nano', seed: 1, slots: 2, innerSteps: 2, rounds: 1, batch: 2, seqLen: 16,
    adamw: DILOCO_INNER, outer: { lr: 1, momentum: 0 }, aggregate: { kind: 'mean' },
    replication: 1, quorumFraction: 1, roundDeadlineMs: 60_000, leaseMs: 60_000, evalWindows: 2,
  });
  const spec = plan.spec;

  beforeAll(async () => {
    h = await startHarness({ suite: 'runs_api' });
    trainer = h.client(h.trainerKey);
  }, 60_000);
  afterAll(async () => h?.close());

  const create = (body: unknown, who: TrackerClient = trainer): Promise<unknown> => who.json('POST', '/api/runs', body);
  const runCount = async (): Promise<number> => Number((await h.db.query<{ n: string }>('SELECT count(*) AS n FROM runs'))[0]!.n);

  it('rejects each class of bad request with a coded 4xx and stores nothing', async () => {
    const stranger = h.client(keyOf(77));
    const cases: Array<[unknown, string, TrackerClient?]> = [
      [{ id: 'r1', spec: { ...spec, slots: 0 } }, 'RUN_BAD_SPEC'],
      [{ id: 'r1', spec: { ...spec, shards: [] } }, 'RUN_BAD_SPEC'],
      [{ id: 'r1', spec: { ...spec, outer: { lr: -1, momentum: 0.9 } } }, 'RUN_BAD_SPEC'],
      [{ id: 'r1', spec: { ...spec, aggregate: { kind: 'median' } } }, 'RUN_BAD_SPEC'],
      [{ id: 'r1', spec: { ...spec, extra: 1 } }, 'RUN_BAD_SPEC'],
      [{ id: '../r1', spec }, 'RUN_BAD_ID'],
      [{ id: 'r1' }, 'RUN_BAD_SPEC'],
      [{ id: 1, spec }, 'PROTOCOL_INVALID'],
      [{ id: 'r1', spec, more: true }, 'PROTOCOL_INVALID'],
      [[1, 2], 'TRACKER_BAD_REQUEST'],
      [{ id: 'r1', spec }, 'TRACKER_MISSING_INPUT'], // nothing uploaded yet
      [{ id: 'r1', spec }, 'TRACKER_FORBIDDEN', stranger],
    ];
    for (const [body, code, who] of cases) {
      let status = 0;
      const got = await codeOfAsync(create(body, who).catch((e: { details?: { status?: number } }) => {
        status = e.details?.status ?? 0;
        throw e;
      }));
      expect({ body: JSON.stringify(body).slice(0, 60), got }).toEqual({ body: JSON.stringify(body).slice(0, 60), got: code });
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
    }
    // θ₀ of the wrong size: a params blob for another config
    const wrong = { ...spec, config: { ...(spec.config as object), dim: 32, hiddenDim: 96 } };
    await trainer.putBlob(plan.blobs[0]!);
    expect(await codeOfAsync(create({ id: 'r1', spec: wrong }))).toMatch(/^WORK_BLOB_/);
    expect(await runCount()).toBe(0);
  }, 60_000);

  it('creates a run once; a duplicate id and a stranger\'s stop are refused', async () => {
    for (const b of plan.blobs) await trainer.putBlob(b);
    await create({ id: 'r2', spec });
    expect(await codeOfAsync(create({ id: 'r2', spec }))).toBe('TRACKER_CONFLICT');
    const stranger = h.client(keyOf(78));
    expect(await codeOfAsync(stranger.send('POST', '/api/runs/r2/stop', new Uint8Array(0)))).toBe('TRACKER_FORBIDDEN');
    // issue 24: the refusal names the key id, so the operator knows what to pass to --trainer
    const refused = await stranger.json('POST', '/api/runs', { id: 'r3', spec }).catch((e: Error) => e);
    expect((refused as Error & { code?: string }).code).toBe('TRACKER_FORBIDDEN');
    expect((refused as Error).message).toContain(`--trainer ${keyOf(78).keyId}`);
    expect(await codeOfAsync(trainer.getJson('/api/runs/nope'))).toBe('TRACKER_NOT_FOUND');
    const stopped = (await (await trainer.send('POST', '/api/runs/r2/stop', new Uint8Array(0))).json()) as { progress: { status: string } };
    expect(stopped.progress.status).toBe('stopped');
    const open = await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM units WHERE run_id = 'r2' AND state = 'open'`);
    expect(Number(open[0]!.n)).toBe(0);
  }, 60_000);
});
