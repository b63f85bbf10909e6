// A cheating provider for the end-to-end tests: the real provider client with
// a result transform. Lives in test/, never in the product: `swarm provide`
// has no such option. Modes (argv[3]):
//   flip-byte  flip one bit of every result (default)
//   noise      train units: replace the int8 delta codes with random ones
//   scale      train units: multiply every row scale by 10
//   sign-flip  train units: negate the delta
//   stale      train units: return the first train result it ever computed (a replay)
import { register } from 'tsx/esm/api';

register();
const { provide } = await import('../../src/cli/provide.ts');
const { decodeTrainResult, encodeTrainResult } = await import('../../src/train/work/train-result.ts');
const tracker = process.argv[2];
const mode = process.argv[3] ?? 'flip-byte';
let first = null;
let seed = 12345;
const rand = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed;
};
const tamper = (result, unit) => {
  if (mode === 'flip-byte' || unit.kind !== 'train') {
    const out = Uint8Array.from(result);
    out[out.length - 1] ^= 1;
    return out;
  }
  const config = unit.spec.config;
  if (mode === 'stale') {
    if (first === null) {
      first = result;
      const out = Uint8Array.from(result); // the first one is wrong too, or it would be honest work
      out[out.length - 1] ^= 1;
      return out;
    }
    return first;
  }
  const r = decodeTrainResult(result, config);
  const q = Int8Array.from(r.q);
  const scales = Float32Array.from(r.scales);
  if (mode === 'noise') for (let i = 0; i < q.length; i++) q[i] = (rand() % 255) - 127;
  else if (mode === 'scale') for (let i = 0; i < scales.length; i++) scales[i] = Math.fround(scales[i] * 10);
  else if (mode === 'sign-flip') for (let i = 0; i < q.length; i++) q[i] = -q[i];
  else throw new Error(`unknown mode ${mode}`);
  return encodeTrainResult(config, { q, scales, opt: r.opt, metrics: r.metrics });
};
const final = await provide({ tracker, threads: 1, maxCpu: 100, idleOnly: false, name: `cheater-${mode}`, sandbox: 'worker', json: true, tamper });
process.stdout.write(`${JSON.stringify({ final: true, ...final })}\n`);
