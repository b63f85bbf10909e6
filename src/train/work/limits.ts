/**
 * Size bounds of a work unit. A spec is input from the network (DESIGN.md,
 * "every input is parsed by a schema with size limits"): these keep a hostile
 * or mistaken spec from asking a provider for more memory or time than any
 * unit of this system needs, before a single blob is fetched.
 */

/** Parameters of the largest model a unit may name (2^28 ≈ 268M: 1 GiB of f32 per copy). */
export const MAX_PARAMS = 2 ** 28;
/** Inner steps of one train unit (DiLoCo's H; the paper uses up to 2000). */
export const MAX_STEPS = 100_000;
/** Rows (windows) per step or per evaluation batch. */
export const MAX_BATCH = 4096;
/** Tokens per row of input, and the largest context a config may name (the causal mask is maxSeqLen² f32: 256 MiB at 8192). */
export const MAX_SEQ_LEN = 8192;
/** Tokens in one data-shard blob (2^26 = 256 MiB of int32). */
export const MAX_SHARD_TOKENS = 2 ** 26;
/** Values per model config field that is a size (vocabulary, width, layers, heads, context). */
export const MAX_VOCAB = 1 << 20;
export const MAX_DIM = 1 << 16;
export const MAX_LAYERS = 1024;
