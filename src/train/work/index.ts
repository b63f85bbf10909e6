/** Work units as data (issue 5): blob encodings, kinds, specs, and runUnit. */
export { encodeParamsBlob, decodeParamsBlob, PARAMS_FORMAT } from './params-blob.ts';
export { encodeOptBlob, decodeOptBlob, OPT_FORMAT } from './opt-blob.ts';
export { encodeShardBlob, decodeShardBlob, trainShardBlob, evalShardBlob, SHARD_FORMAT } from './shard-blob.ts';
export type { ShardExpectation } from './shard-blob.ts';
export { encodeTrainResult, decodeTrainResult, deltaRows, TRAIN_RESULT_FORMAT } from './train-result.ts';
export type { TrainMetrics, TrainResultParts, DecodedTrainResult } from './train-result.ts';
export { encodeEvalResult, decodeEvalResult } from './eval-result.ts';
export type { EvalResult } from './eval-result.ts';
export { UNIT_KINDS, isUnitKind, kindOf, parseUnitSpec, specHash, unitInputs, unitFlops } from './kinds.ts';
export type { UnitSpec, UnitSpecs, UnitKindName } from './kinds.ts';
export type { TrainSpec } from './train-kind.ts';
export type { EvalSpec } from './eval-kind.ts';
export type { UnitKindDef, UnitRun } from './kind.ts';
export { runUnit, verifiedInputs } from './run-unit.ts';
export type { UnitOutcome, BlobGetter } from './run-unit.ts';
export * from './limits.ts';
