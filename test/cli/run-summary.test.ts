/**
 * `swarm run show`: per round, the bytes providers moved beside what
 * synchronous data parallelism would have moved for the same tokens (issue 7,
 * "Communication accounting … both shown").
 */
import { describe, expect, it } from 'vitest';
import { preset } from '../../src/model/config.ts';
import { summary } from '../../src/cli/run.ts';
import type { RunView } from '../../src/tracker/runs/diloco.ts';
import { paramCount } from '../../src/model/llama.ts';

describe('run summary', () => {
  it('shows each round\'s traffic, one replica per slot and per provider, against data parallelism, and the total ratio', () => {
    const config = preset('nano');
    const n = paramCount(config);
    const view = {
      id: 'r1', owner: null,
      spec: { slots: 4, innerSteps: 50, rounds: 3, replication: 1, aggregate: { kind: 'mean' }, downlink: 'int8', label: 'nano', config, entropyFloor: 1.5 },
      progress: {
        status: 'training', round: 2, state: 'ab', params: 'cd', opt: [], deadline: 0, evalLoss: { 0: 2.5 },
        history: [
          { round: 0, checkpoint: 'x', slots: [0, 1, 2, 3], dropped: [], trainLoss: 2, bytesDown: 3_000_000, bytesUp: 600_000, bytesOneReplica: 2_400_000, closedAt: 1 },
          { round: 1, checkpoint: 'y', slots: [0, 1, 3], dropped: [2], trainLoss: 1.9, bytesDown: 1_000_000, bytesUp: 500_000, bytesOneReplica: 1_200_000, closedAt: 2 },
        ],
      },
    } as unknown as RunView;
    const text = summary(view);
    // ring all-reduce of 4N bytes among 4 workers moves 2(K−1)·4N a step, 50 steps a round
    const ddpRound = 50 * 2 * 3 * 4 * n;
    const mb = (x: number) => `${(x / 1e6).toFixed(x < 1e7 ? 1 : 0)} MB`;
    expect(text).toContain('θ down int8');
    expect(text).toContain(`round 0: slots [0,1,2,3], train 2.000, moved 3.0 MB down, 600 KB up; one replica per slot 2.4 MB, 600 KB a provider; data parallelism ${mb(ddpRound)}`);
    expect(text).toContain('round 1: slots [0,1,3] dropped [2], train 1.900, moved 1.0 MB down, 500 KB up; one replica per slot 1.2 MB, 400 KB a provider');
    expect(text).toContain(`traffic: 3.6 MB (one replica per slot) against ${mb(2 * ddpRound)} for data parallelism: ${((2 * ddpRound) / 3_600_000).toFixed(1)}× less`);
  });
});
