/** Public surface of the tensor engine. */
export type { Backend, BinaryOp, ReduceOp, UnaryOp } from './backend/backend.ts';
export { createRefBackend } from './backend/ref.ts';
export { Engine, Tensor, DEFAULT_MAX_ELEMENTS } from './tensor.ts';
export type { EngineOptions, GradNode } from './tensor.ts';
export * from './ops.ts';
export * from './composite.ts';
export { gradients, backward } from './autograd.ts';
export { ropeTables } from './rope.ts';
export { randn, randUniform, fillNormal } from './init.ts';
export type { UniformSource } from './init.ts';
export type { Shape } from './shape.ts';
