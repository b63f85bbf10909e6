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
    grads.set(root, seed ?? e.full(root.shape, 1));
    const order = topoOrder(root);
    const keep = new Set(wrt);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const g = grads.get(t);
      if (g === undefined || t.node === null) continue;
      const pg = t.node.backward(g);
      t.node.parents.forEach((p, j) => {
        const gj = pg[j];
        if (!p.requiresGrad || gj === null || gj === undefined) return;
        const prev = grads.get(p);
        grads.set(p, prev === undefined ? gj : add(prev, gj));
      });
      // Free intermediate gradients as soon as they are consumed.
      if (!keep.has(t)) grads.delete(t);
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
