// A cheating provider for the end-to-end tests: the real provider client with
// a result transform that perturbs one byte of every result it uploads.
// Lives in test/, never in the product: `swarm provide` has no such option.
import { register } from 'tsx/esm/api';

register();
const { provide } = await import('../../src/cli/provide.ts');
const tracker = process.argv[2];
const final = await provide({
  tracker,
  threads: 1,
  maxCpu: 100,
  idleOnly: false,
  name: 'cheater',
  sandbox: 'worker',
  json: true,
  tamper: (result) => {
    const out = Uint8Array.from(result);
    out[out.length - 1] ^= 1;
    return out;
  },
});
process.stdout.write(`${JSON.stringify({ final: true, ...final })}\n`);
