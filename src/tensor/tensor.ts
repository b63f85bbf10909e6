/**
 * Tensor and Engine.
 *
 * A Tensor is an immutable binary32 array with a shape, plus the autograd
 * record that produced it. An Engine carries what ops need and nothing is a
 * global singleton: the backend (kernels), the size limit, whether gradients
 * are being recorded, and whether NaN results are flagged. Tensors from
 * different engines never mix.
 */
import { SwarmError } from '../core/errors.ts';
import type { Backend } from './backend/backend.ts';
import type { Shape } from './shape.ts';
import { checkShape, fmtShape, sizeOf } from './shape.ts';

/** Default cap on elements per tensor: 2^28 binary32 values = 1 GiB. */
export const DEFAULT_MAX_ELEMENTS = 2 ** 28;

export interface EngineOptions {
  /** Largest tensor (in elements) any op may create; beyond it TENSOR_TOO_LARGE. */
  maxElements?: number;
  /** When true, any op whose output holds a NaN throws TENSOR_NAN naming the op. */
  checkNaN?: boolean;
}

/** The autograd record: parents and the function from output grad to parent grads. */
export interface GradNode {
  readonly op: string;
  readonly parents: readonly Tensor[];
  /** Given dL/d(out), return dL/d(parent) for each parent (null: no gradient). */
  readonly backward: (grad: Tensor) => readonly (Tensor | null)[];
  /**
   * Optional, for fused ops (./fused.ts) whose parent would have received
   * several separate gradient contributions from the primitives the op
   * replaces, each added to the parent's running sum by autograd (binary32
   * addition is not associative, so adding them up first and then once into
   * the sum would change bits). Given each parent's gradient accumulated so
   * far (undefined: nothing yet), return its new accumulated value (null:
   * leave it), having added this node's contributions one at a time in the
   * order the composed graph would have. Autograd prefers it to `backward`.
   */
  readonly backwardInto?: (grad: Tensor, acc: readonly (Tensor | undefined)[]) => readonly (Tensor | null)[];
}

export class Engine {
  readonly backend: Backend;
  readonly maxElements: number;
  checkNaN: boolean;
  private gradDepth = 0;

  constructor(backend: Backend, options: EngineOptions = {}) {
    this.backend = backend;
    this.maxElements = options.maxElements ?? DEFAULT_MAX_ELEMENTS;
    this.checkNaN = options.checkNaN ?? false;
  }

  /** Whether ops currently record autograd nodes. */
  get gradEnabled(): boolean {
    return this.gradDepth === 0;
  }

  /** Run fn without recording gradients (used inside backward and by optimizers). */
  noGrad<T>(fn: () => T): T {
    this.gradDepth++;
    try {
      return fn();
    } finally {
      this.gradDepth--;
    }
  }

  /** Wrap data (copied unless `own`) as a tensor of `shape`. */
  tensor(data: ArrayLike<number> | Float32Array, shape: Shape, opts: { requiresGrad?: boolean } = {}): Tensor {
    checkShape(shape);
    const size = sizeOf(shape);
    this.checkSize(size, 'tensor');
    if (data.length !== size) {
      throw new SwarmError('TENSOR_BAD_SHAPE', `data has ${data.length} values but shape ${fmtShape(shape)} needs ${size}`);
    }
    const arr = Float32Array.from(data as ArrayLike<number>);
    return new Tensor(this, arr, [...shape], opts.requiresGrad ?? false, null);
  }

  /** Wrap `data` without copying (the caller keeps ownership; used for parameters updated in place). */
  wrap(data: Float32Array, shape: Shape, opts: { requiresGrad?: boolean } = {}): Tensor {
    checkShape(shape);
    const size = sizeOf(shape);
    this.checkSize(size, 'wrap');
    if (data.length !== size) {
      throw new SwarmError('TENSOR_BAD_SHAPE', `data has ${data.length} values but shape ${fmtShape(shape)} needs ${size}`);
    }
    return new Tensor(this, data, [...shape], opts.requiresGrad ?? false, null);
  }

  scalar(v: number): Tensor {
    return this.tensor([v], []);
  }

  zeros(shape: Shape, opts: { requiresGrad?: boolean } = {}): Tensor {
    return this.full(shape, 0, opts);
  }

  ones(shape: Shape): Tensor {
    return this.full(shape, 1);
  }

  full(shape: Shape, value: number, opts: { requiresGrad?: boolean } = {}): Tensor {
    checkShape(shape);
    const size = sizeOf(shape);
    this.checkSize(size, 'full');
    return new Tensor(this, new Float32Array(size).fill(value), [...shape], opts.requiresGrad ?? false, null);
  }

  /** Internal: wrap a freshly computed array (not copied) as an op result. */
  result(op: string, data: Float32Array, shape: Shape, node: GradNode | null): Tensor {
    if (this.checkNaN) {
      for (let i = 0; i < data.length; i++) {
        if (data[i] !== data[i]) {
          throw new SwarmError('TENSOR_NAN', `op ${op} produced NaN at flat index ${i}`, { op, index: i, shape: [...shape] });
        }
      }
    }
    const record = node !== null && this.gradEnabled && node.parents.some((p) => p.requiresGrad);
    return new Tensor(this, data, shape, record, record ? node : null);
  }

  checkSize(size: number, op: string): void {
    if (size > this.maxElements) {
      throw new SwarmError('TENSOR_TOO_LARGE', `${op} would create ${size} elements, over the limit of ${this.maxElements}`, {
        op,
        size,
        limit: this.maxElements,
      });
    }
  }
}

export class Tensor {
  /** dL/dthis after backward(), for tensors that require grad. */
  grad: Tensor | null = null;

  constructor(
    readonly engine: Engine,
    readonly data: Float32Array,
    readonly shape: Shape,
    readonly requiresGrad: boolean,
    readonly node: GradNode | null,
  ) {}

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) {
      throw new SwarmError('TENSOR_BAD_SHAPE', `item() needs one element, shape is ${fmtShape(this.shape)}`);
    }
    return this.data[0]!;
  }

  /** Same values, no autograd history. */
  detach(): Tensor {
    return new Tensor(this.engine, this.data, this.shape, false, null);
  }

  toArray(): number[] {
    return Array.from(this.data);
  }
}
