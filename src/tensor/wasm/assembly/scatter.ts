/**
 * Gradient of gather (Backend.scatterAdd): out[rows, cols] = +0, then for
 * t = 0..count-1 in order, out[idx[t], :] += src[t, :]. Rows are processed
 * in t order so repeated indices accumulate in the canonical order; within a
 * row the columns are independent, so f32x4 lanes change no bits.
 * Indices were range-checked by the caller.
 */
export function scatterAdd(src: usize, idx: usize, out: usize, count: i32, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  memory.fill(out, 0, rowBytes * <usize>rows);
  for (let t = 0; t < count; t++) {
    const r = load<i32>(idx + (<usize>t << 2));
    const d = out + <usize>r * rowBytes;
    const s = src + <usize>t * rowBytes;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o)));
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      store<f32>(d + o, load<f32>(d + o) + load<f32>(s + o));
    }
  }
}
