/** Shared by the wasm and native backends: broadcast shapes reduced to as few dimensions as possible. */
/**
 * Canonical form of a broadcast op's iteration space: size-1 dimensions are
 * dropped (their stride is never used) and neighbours d, d+1 are merged when
 * both operands step through them as one flat run (stride[d] ==
 * stride[d+1] * shape[d+1], which includes both being 0). The row-major order
 * of output elements and the input element each one reads are unchanged, so
 * no result can change; the kernel just gets longer rows and fewer dims.
 * A scalar becomes dims [1] with strides [0].
 */
export function collapseBroadcast(
  shape: readonly number[],
  aStrides: readonly number[],
  bStrides: readonly number[],
): { dims: number[]; sa: number[]; sb: number[] } {
  const dims: number[] = [];
  const sa: number[] = [];
  const sb: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const s = shape[d]!;
    if (s === 1) continue;
    const x = aStrides[d]!;
    const y = bStrides[d]!;
    const last = dims.length - 1;
    if (last >= 0 && sa[last] === x * s && sb[last] === y * s) {
      dims[last] = dims[last]! * s;
      sa[last] = x;
      sb[last] = y;
    } else {
      dims.push(s);
      sa.push(x);
      sb.push(y);
    }
  }
  if (dims.length === 0) return { dims: [1], sa: [0], sb: [0] };
  return { dims, sa, sb };
}
