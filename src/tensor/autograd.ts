/**
 * Reverse-mode differentiation over the GradNode graph recorded by ops.
 * The traversal order is a deterministic function of the order in which the
 * graph was built, so gradient accumulation (a sum, hence order-sensitive in
 * binary32) gives the same bits on every run.
 */
import { SwarmError } from '../core/errors.ts';
import { add } from './ops.ts';
import type { Tensor } from './tensor.ts';

/** Nodes reachable from `root` in topological order (parents before children), iteratively. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: Array<{ t: Tensor; i: number }> = [{ t: root, i: 0 }];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const parents = top.t.node?.parents ?? [];
    if (top.i < parents.length) {
      const p = parents[top.i++]!;
      if (p.requiresGrad && !seen.has(p)) {
        seen.add(p);
        stack.push({ t: p, i: 0 });
      }
    } else {
      order.push(top.t);
      stack.pop();
    }
  }
  return order;
}

/**
 * dL/dx for each x in `wrt`, where L = sum(root * seed) (seed defaults to 1
 * for a one-element root). Tensors in `wrt` not reached get zeros.
 */
export function gradients(root: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  const e = root.engine;
  if (!root.requiresGrad) {
    throw new SwarmError('TENSOR_NO_GRAD', 'the root does not depend on any tensor that requires grad');
  }
  if (seed === undefined && root.size !== 1) {
    throw new SwarmError('TENSOR_BAD_GRAD', 'backward from a non-scalar needs an explicit seed gradient');
  }
  if (seed !== undefined && (seed.shape.length !== root.shape.length || seed.shape.some((d, i) => d !== root.shape[i]))) {
    throw new SwarmError('TENSOR_BAD_GRAD', 'seed gradient shape differs from the root');
  }
  return e.noGrad(() => {
    const grads = new Map<Tensor, Tensor>();
    // Buffer reuse (Backend.recycle): how many entries of `grads` hold each
    // array. Gradients are only ever held here (backward functions return
    // new tensors, or pass their input gradient on unchanged, which shares
    // its array: counted). When the last entry holding an array is
    // consumed, no tensor can read it again, so the backend may reuse it.
    // The seed is the caller's and arrays of kept gradients are never freed.
    const recycle = e.backend.recycle?.bind(e.backend);
    const holders = new Map<Float32Array, number>();
    const hold = (g: Tensor) => {
      if (recycle !== undefined) holders.set(g.data, (holders.get(g.data) ?? 0) + 1);
    };
    const set = (t: Tensor, g: Tensor) => {
      hold(g);
      const old = grads.get(t);
      grads.set(t, g);
      if (old !== undefined) release(old);
    };
    const release = (g: Tensor) => {
      if (recycle === undefined) return;
      const n = (holders.get(g.data) ?? 0) - 1;
      if (n > 0) {
        holders.set(g.data, n);
        return;
      }
      holders.delete(g.data);
      recycle(g.data);
    };
    const root0 = seed ?? e.full(root.shape, 1);
    grads.set(root, root0);
    hold(root0);
    hold(root0); // never released: the seed belongs to the caller
    const order = topoOrder(root);
    const keep = new Set(wrt);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const g = grads.get(t);
      if (g === undefined || t.node === null) continue;
      if (t.node.backwardInto !== undefined) {
        const parents = t.node.parents;
        const acc = t.node.backwardInto(g, parents.map((p) => grads.get(p)));
        parents.forEach((p, j) => {
          const a = acc[j];
          if (p.requiresGrad && a !== null && a !== undefined) set(p, a);
        });
      } else {
        const pg = t.node.backward(g);
        t.node.parents.forEach((p, j) => {
          const gj = pg[j];
          if (!p.requiresGrad || gj === null || gj === undefined) return;
          const prev = grads.get(p);
          if (prev === undefined) {
            set(p, gj);
            return;
          }
          set(p, add(prev, gj));
          // gj was only an addend: unless an entry holds its array (a
          // gradient passed through unchanged), nothing reads it again.
          if (recycle !== undefined && !holders.has(gj.data)) recycle(gj.data);
        });
      }
      // Free intermediate gradients as soon as they are consumed.
      if (!keep.has(t)) {
        grads.delete(t);
        release(g);
      }
    }
    return wrt.map((x) => grads.get(x) ?? e.zeros(x.shape));
  });
}

/** Accumulate dL/dx into x.grad for every leaf x (requiresGrad, no node) below `root`. */
export function backward(root: Tensor, seed?: Tensor): void {
  const leaves = topoOrder(root).filter((t) => t.node === null && t.requiresGrad);
  const gs = gradients(root, leaves, seed);
  root.engine.noGrad(() => {
    leaves.forEach((leaf, i) => {
      leaf.grad = leaf.grad === null ? gs[i]! : add(leaf.grad, gs[i]!);
    });
  });
}

/**
 * End of a step: hand the arrays of every op recorded below `root` (and the
 * arrays in `also`, e.g. gradients the optimizer has applied) back to the
 * backend for reuse (Backend.recycle), instead of leaving a step's worth of
 * activations to the garbage collector while the next step allocates anew.
 * The graph must not be used afterwards. Never recycled: the arrays of
 * leaves (parameters, which are views of the caller's flat vector;
 * constants; detached values), which a recorded op may share (reshape,
 * detach share arrays; their sources are always in the walk).
 */
export function releaseGraph(root: Tensor, also: readonly Float32Array[] = []): void {
  const recycle = root.engine.backend.recycle?.bind(root.engine.backend);
  if (recycle === undefined) return;
  const seen = new Set<Tensor>([root]);
  const stack = [root];
  const owned = new Set<Float32Array>(also);
  const leaves = new Set<Float32Array>();
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (t.node === null) {
      leaves.add(t.data);
      continue;
    }
    owned.add(t.data);
    for (const p of t.node.parents) {
      if (!seen.has(p)) {
        seen.add(p);
        stack.push(p);
      }
    }
  }
  for (const a of owned) if (!leaves.has(a)) recycle(a);
}
