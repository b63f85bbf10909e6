/**
 * The communication accounting of a DiLoCo round (issue 7): what each
 * verified train unit's replicas moved, with AdamW states kept by providers.
 */
import { describe, expect, it } from 'vitest';
import { replicaTraffic } from '../../src/tracker/runs/diloco.ts';

const rep = (provider: string, state: 'returned' | 'in-progress' | 'timed-out', validateState: 'valid' | 'invalid' | 'pending' = 'valid') =>
  ({ provider, state, validateState }) as Parameters<typeof replicaTraffic>[0]['replicas'][number];

describe('replicaTraffic', () => {
  it('a state kept by both replicas moves nothing; θ, shard and results count per returned replica', () => {
    const t = replicaTraffic({ paramsSize: 900, patchSize: null, shardSize: 100, optSize: 0, keptBy: ['a', 'b'], resultBytes: 100, replicas: [rep('a', 'returned'), rep('b', 'returned'), rep('c', 'timed-out')] });
    expect(t).toEqual({ down: 2000, up: 200, oneReplica: 1100 });
  });

  it('a kept state the tracker asked for: one upload, downloaded only by the replica of a non-keeper; one replica (the keeper\'s) moved no state', () => {
    const t = replicaTraffic({ paramsSize: 900, patchSize: null, shardSize: 100, optSize: 500, keptBy: ['a'], resultBytes: 100, replicas: [rep('a', 'returned'), rep('n', 'returned')] });
    expect(t).toEqual({ down: 2000 + 500, up: 200 + 500, oneReplica: 1100 });
  });

  it('the keeper gone: the non-keeper\'s one replica needed the state, so the keeper\'s upload and its download count', () => {
    const t = replicaTraffic({ paramsSize: 900, patchSize: null, shardSize: 100, optSize: 500, keptBy: ['a'], resultBytes: 100, replicas: [rep('a', 'timed-out', 'pending'), rep('n', 'returned')] });
    expect(t).toEqual({ down: 1000 + 500, up: 100 + 500, oneReplica: 1100 + 500 + 500 });
  });

  it('a state only the tracker has (moved mode, or a reset slot): every replica downloads it, nobody uploads it', () => {
    const t = replicaTraffic({ paramsSize: 900, patchSize: null, shardSize: 100, optSize: 500, keptBy: [], resultBytes: 100, replicas: [rep('a', 'returned'), rep('b', 'returned')] });
    expect(t).toEqual({ down: 3000, up: 200, oneReplica: 1600 });
  });

  it('one replica counts the download when no keeper\'s result is valid', () => {
    const t = replicaTraffic({ paramsSize: 900, patchSize: null, shardSize: 100, optSize: 500, keptBy: ['a'], resultBytes: 100, replicas: [rep('a', 'returned', 'invalid'), rep('n', 'returned'), rep('m', 'returned')] });
    expect(t.oneReplica).toBe(1100 + 500 + 500);
    expect(t.down).toBe(3000 + 2 * 500);
    expect(t.up).toBe(300 + 500);
  });

  it('int8 downlink: a keeper downloads the update instead of θ; a non-keeper downloads θ whole', () => {
    const base = { paramsSize: 900, patchSize: 250, shardSize: 100, resultBytes: 100 };
    const keeper = replicaTraffic({ ...base, optSize: 0, keptBy: ['a'], replicas: [rep('a', 'returned')] });
    expect(keeper).toEqual({ down: 250 + 100, up: 100, oneReplica: 250 + 100 + 100 });
    const both = replicaTraffic({ ...base, optSize: 500, keptBy: ['a'], replicas: [rep('a', 'returned'), rep('n', 'returned')] });
    expect(both).toEqual({ down: 250 + 100 + 900 + 100 + 500, up: 200 + 500, oneReplica: 250 + 100 + 100 });
    // the keeper's result invalid: the one replica is a non-keeper's, θ whole and the state
    const lost = replicaTraffic({ ...base, optSize: 500, keptBy: ['a'], replicas: [rep('a', 'returned', 'invalid'), rep('n', 'returned')] });
    expect(lost.oneReplica).toBe(900 + 100 + 100 + 500 + 500);
  });
});
