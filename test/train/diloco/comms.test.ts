/** Communication accounting against hand-computed numbers. */
import { describe, expect, it } from 'vitest';
import {
  adamStateBytes, compareComms, ddpRunBytes, dilocoRunBytes, dilocoUnitTransfer, f32Bytes, int8DeltaBytes, ringAllReduceBytes, unitBytes,
} from '../../../src/train/diloco/comms.ts';
import { expectCode } from '../../helpers/errors.ts';

describe('communication accounting', () => {
  it('payload sizes', () => {
    expect(f32Bytes(1000)).toBe(4000);
    expect(adamStateBytes(1000)).toBe(8000);
    expect(int8DeltaBytes(1000, 10)).toBe(1040);
    expect(unitBytes({ theta: 4000, adamState: 8000, shard: 500, delta: 1040, newAdamState: 8000 })).toEqual({ download: 12500, upload: 9040, total: 21540 });
    expect(dilocoUnitTransfer(1000, 10, { adamMoves: false })).toEqual({ theta: 4000, adamState: 0, shard: 0, delta: 1040, newAdamState: 0 });
    expect(dilocoUnitTransfer(1000, 10, { adamMoves: true, shardBytes: 7 })).toEqual({ theta: 4000, adamState: 8000, shard: 7, delta: 1040, newAdamState: 8000 });
  });

  it('ring all-reduce: each worker sends and receives 2(K−1)/K of the buffer (Patarasuk & Yuan 2009)', () => {
    expect(ringAllReduceBytes(4, 4000)).toEqual({ perWorkerSent: 6000, perWorkerReceived: 6000, moved: 24000 });
    const three = ringAllReduceBytes(3, 10);
    expect(three.perWorkerSent).toBeCloseTo(40 / 3, 12);
    expect(three.moved).toBe(40); // 3 workers × 40/3 sent (each byte counted once) = 2(K−1) · 10
    expect(ringAllReduceBytes(1, 4000)).toEqual({ perWorkerSent: 0, perWorkerReceived: 0, moved: 0 });
  });

  it('DiLoCo against DDP on the same tokens: N = 1000, 10 rows, K = 4, H = 50, R = 2', () => {
    // DiLoCo unit: 4000 down (θ) + 1040 up (int8 + scales) = 5040; 8 units
    expect(dilocoRunBytes({ slots: 4, rounds: 2, unit: dilocoUnitTransfer(1000, 10, { adamMoves: false }) })).toEqual({
      perProviderRound: { download: 4000, upload: 1040, total: 5040 },
      total: { download: 32000, upload: 8320, total: 40320 },
    });
    // DDP: 100 steps × ring of 4000 bytes (24000 bytes moved: 4 workers send 6000 each) = 2.4 MB; 12000 through each worker's link per step
    expect(ddpRunBytes({ workers: 4, paramCount: 1000, steps: 100 })).toEqual({ perWorkerStep: 12000, total: 2_400_000 });
    const keep = compareComms({ slots: 4, innerSteps: 50, rounds: 2, paramCount: 1000, rows: 10, adamMoves: false });
    expect(keep.ratio).toBeCloseTo(2_400_000 / 40_320, 12); // 59.5×
    // the int8 downlink: θ goes down as 1000 codes + 10 scales instead of 4000 bytes
    const int8 = compareComms({ slots: 4, innerSteps: 50, rounds: 2, paramCount: 1000, rows: 10, adamMoves: false, downlink: 'int8' });
    expect(int8.diloco.perProviderRound).toEqual({ download: 1040, upload: 1040, total: 2080 });
    expect(int8.ratio).toBeCloseTo(2_400_000 / (8 * 2080), 12); // 144×
    // AdamW state both ways: 12000 down + 9040 up per unit
    const move = compareComms({ slots: 4, innerSteps: 50, rounds: 2, paramCount: 1000, rows: 10, adamMoves: true });
    expect(move.diloco.total.total).toBe(8 * 21040);
    expect(move.ratio).toBeCloseTo(2_400_000 / 168_320, 12); // 14.3×
    // a 500-byte shard per unit counts on both sides
    const data = compareComms({ slots: 4, innerSteps: 50, rounds: 2, paramCount: 1000, rows: 10, adamMoves: false, shardBytes: 500 });
    expect(data.diloco.total.total).toBe(8 * 5540);
    expect(data.ddp.total).toBe(2_400_000 + 8 * 500);
    expect(data.ddp.perWorkerStep).toBe(12000 + 10);
    expect(data.ratio).toBeCloseTo(2_404_000 / 44_320, 12);
  });

  it('rejects impossible counts with coded errors', () => {
    expectCode(() => f32Bytes(-1), 'DILOCO_BAD_OPTION');
    expectCode(() => int8DeltaBytes(10, 1.5), 'DILOCO_BAD_OPTION');
    expectCode(() => ringAllReduceBytes(0, 10), 'DILOCO_BAD_OPTION');
    expectCode(() => ddpRunBytes({ workers: 4, paramCount: 10, steps: NaN }), 'DILOCO_BAD_OPTION');
    expectCode(() => unitBytes({ theta: 1, adamState: 0, shard: -5, delta: 1, newAdamState: 0 }), 'DILOCO_BAD_OPTION');
    expectCode(() => compareComms({ slots: 4, innerSteps: 50, rounds: -2, paramCount: 1000, rows: 10, adamMoves: false }), 'DILOCO_BAD_OPTION');
  });
});
