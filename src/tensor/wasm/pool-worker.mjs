/**
 * Matmul pool worker (plain JS so it runs under plain node, with or without
 * tsx). It instantiates the canonical kernels over the backend's shared
 * WebAssembly.Memory and then lives in a loop, blocked in Atomics.wait on the
 * control block until ../wasm/backend.ts posts a task.
 *
 * Protocol (indices into the Int32Array `control`; the layout is mirrored in
 * backend.ts, keep the two in sync):
 *   SEQ   bumped by the caller for every task (and on shutdown);
 *   NEXT  next chunk to take: Atomics.add hands each chunk to exactly one
 *         thread (dynamic scheduling: a late or descheduled worker simply
 *         takes fewer chunks);
 *   ACK   workers done with the current task; the caller waits until every
 *         worker has acknowledged before it reads C or reuses the block, so
 *         no worker can still be reading the old task's parameters.
 *   ERR   set when a kernel call threw.
 * Every output row is computed by one thread with the same kernel, so the bits
 * do not depend on how chunks were spread over threads.
 * Atomics are sequentially consistent, so the caller's plain writes (inputs,
 * packed B, parameters) before its Atomics.add(SEQ) are visible here after
 * Atomics.load(SEQ), and our wasm stores to C are visible to the caller after
 * it observes our Atomics.add(ACK) (ECMA-262 §29, memory model).
 */
import { parentPort, workerData } from 'node:worker_threads';

const SEQ = 0, NEXT = 1, ACK = 2, ERR = 3, QUIT = 4;
const P_A = 8, P_BP = 9, P_C = 10, P_K = 11, P_N = 12, P_M = 13, P_ROWS = 14, P_CPB = 15, P_TOTAL = 16;
const P_ASTRIDE = 17, P_BPSTRIDE = 18, P_CSTRIDE = 19, P_SCRATCH = 20, P_SCRATCH_STRIDE = 21;

const { module, memory, control, index } = workerData;
const ctl = new Int32Array(control);
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;

// Read SEQ *before* announcing readiness: the caller may post its first task
// as soon as it hears from us, and a SEQ read after that could already see
// the new value and wait forever for a task that has been posted.
let seen = Atomics.load(ctl, SEQ);
parentPort.postMessage({ ready: true });

for (;;) {
  Atomics.wait(ctl, SEQ, seen);
  const seq = Atomics.load(ctl, SEQ);
  if (seq === seen) continue;
  seen = seq;
  if (Atomics.load(ctl, QUIT) !== 0) break;
  try {
    const u = (i) => ctl[i] >>> 0; // byte offsets may exceed 2^31
    const a = u(P_A), bp = u(P_BP), c = u(P_C), k = ctl[P_K], n = ctl[P_N], m = ctl[P_M];
    const rows = ctl[P_ROWS], cpb = ctl[P_CPB], total = ctl[P_TOTAL];
    const aStride = u(P_ASTRIDE), bpStride = u(P_BPSTRIDE), cStride = u(P_CSTRIDE);
    const scratch = u(P_SCRATCH) + index * u(P_SCRATCH_STRIDE);
    for (;;) {
      const chunk = Atomics.add(ctl, NEXT, 1);
      if (chunk >= total) break;
      const b = Math.floor(chunk / cpb);
      const r0 = (chunk - b * cpb) * rows;
      const r1 = Math.min(r0 + rows, m);
      kernels.matmulRows(a + b * aStride, bp + b * bpStride, c + b * cStride, k, n, r0, r1, scratch);
    }
  } catch {
    Atomics.store(ctl, ERR, 1);
  }
  Atomics.add(ctl, ACK, 1);
  Atomics.notify(ctl, ACK);
}
