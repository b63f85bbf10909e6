// A cheating provider for the end-to-end tests: the real provider client with
// a result transform (test/e2e/tamper.ts). Lives in test/, never in the
// product: `swarm provide` has no such option. Modes (argv[3]):
//   flip-byte  flip one bit of every result (default)
//   noise      train units: replace the int8 delta codes with random ones
//   scale      train units: multiply every row scale by 10
//   sign-flip  train units: negate the delta
// Other units get flip-byte, so every result it returns is wrong. Every train
// result it tampers with is announced on stdout as {"tampered":MODE,"unit":ID},
// so a test can check each one's verdict.
import { register } from 'tsx/esm/api';

register();
const { provide } = await import('../../src/cli/provide.ts');
const { DELTA_CORRUPTIONS, corrupt, lcg } = await import('./tamper.ts');
const tracker = process.argv[2];
const mode = process.argv[3] ?? 'flip-byte';
if (![...DELTA_CORRUPTIONS, 'flip-byte'].includes(mode)) throw new Error(`unknown mode ${mode}`);
const rand = lcg(12345);
const tamper = (result, unit) => {
  if (unit.kind !== 'train') return corrupt(result, unit, 'flip-byte', rand);
  process.stdout.write(`${JSON.stringify({ tampered: mode, unit: unit.unitId })}\n`);
  return corrupt(result, unit, mode, rand);
};
const final = await provide({ tracker, threads: 1, maxCpu: 100, idleOnly: false, name: `cheater-${mode}`, sandbox: 'worker', json: true, tamper });
process.stdout.write(`${JSON.stringify({ final: true, ...final })}\n`);
