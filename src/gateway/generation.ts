/**
 * The decode loop behind both endpoints: prefill the prompt once into a KV
 * cache, then sample one token at a time (model/generate.ts's forwardCached
 * and sampleToken), turning token bytes into text as it goes. Written here
 * rather than reusing generate() because serving needs four things it lacks:
 * text-level stop sequences, streaming with hold-back, an AbortSignal checked
 * between tokens (a client disconnect stops the work), and a yield to the
 * event loop between tokens so the server keeps answering while it decodes.
 */
import { SwarmError } from '../core/errors.ts';
import { Prng } from '../core/prng.ts';
import type { KvCache } from '../model/generate.ts';
import { emptyCache, forwardCached, sampleToken } from '../model/generate.ts';
import type { ServedModel } from './model.ts';

export type FinishReason = 'stop' | 'length';

/** The prompt run through the model once; every choice of a request decodes from a copy. */
export interface Prefilled {
  promptTokens: number;
  cache: KvCache;
  /** logits after the last prompt token [V] */
  logits: Float32Array;
}

export interface DecodeOptions {
  /** most completion tokens; null = up to the end of the context */
  maxTokens: number | null;
  /** 0 = greedy */
  temperature: number;
  topP: number;
  /** sampling stream; null with temperature 0 */
  rng: Prng | null;
  /** text that ends the completion; the stop text itself is not returned (OpenAI `stop`) */
  stop: readonly string[];
  signal?: AbortSignal;
}

export interface DecodeResult {
  text: string;
  completionTokens: number;
  finishReason: FinishReason;
}

/** Lets timers and sockets run between tokens (a disconnect is noticed here). */
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** The abort error carries how many tokens were generated before the stop, for usage accounting. */
function aborted(completionTokens: number): SwarmError {
  return new SwarmError('GATEWAY_ABORTED', 'the client went away; generation stopped', { completionTokens });
}

/**
 * Runs the prompt through the model. A prompt that leaves no room for even
 * one completion token is a 400 (OpenAI: context_length_exceeded).
 */
export function prefill(m: ServedModel, prompt: Int32Array): Prefilled {
  const ctx = m.config.maxSeqLen;
  if (prompt.length === 0) throw new SwarmError('GATEWAY_INVALID_PARAM', 'the prompt has no tokens', { param: 'prompt' });
  if (prompt.length >= ctx) {
    throw new SwarmError(
      'GATEWAY_CONTEXT_LENGTH',
      `This model's maximum context length is ${ctx} tokens; the prompt has ${prompt.length} tokens, leaving no room for a completion.`,
      { param: 'messages' },
    );
  }
  const cache = emptyCache(m.config);
  const logits = forwardCached(m.config, m.params, m.constants, cache, prompt);
  return { promptTokens: prompt.length, cache, logits };
}

/**
 * Seeded stream for choice `index` of a request: choice 0 uses the same
 * stream as `swarm generate --seed` (fromSeed(seed).fork('sample')), so a
 * served answer can be re-checked offline; further choices fork from it.
 */
export function choiceRng(seed: number, index: number): Prng {
  // Prng seeds are u32 or strings; other safe integers go by their decimal text
  const base = Prng.fromSeed(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32 ? seed : String(seed)).fork('sample');
  return index === 0 ? base : base.fork(index);
}

/** Length of the longest suffix of `text` that is a proper prefix of some stop string. */
function heldBack(text: string, stops: readonly string[]): number {
  let best = 0;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, text.length); k > best; k--) {
      if (text.endsWith(s.slice(0, k))) {
        best = k;
        break;
      }
    }
  }
  return best;
}

/**
 * Decodes one choice. Yields text pieces as they become final (text that
 * might be the start of a stop string is held back until it is not) and
 * returns the whole text, the token count and why it ended: "stop" for EOS
 * or a stop string, "length" for max_tokens or the model's context limit
 * (OpenAI's finish_reason values). Throws GATEWAY_ABORTED when `signal` fires.
 */
export async function* decode(m: ServedModel, start: Prefilled, o: DecodeOptions): AsyncGenerator<string, DecodeResult> {
  const tok = m.tokenizer;
  const specials = new Set(tok.addedTokens.filter((a) => a.special).map((a) => a.id));
  // prompt + completion never exceeds the context (OpenAI counts both against it)
  const room = m.config.maxSeqLen - start.promptTokens;
  const limit = Math.min(o.maxTokens ?? room, room);
  const stops = o.stop.filter((s) => s.length > 0);
  // the cached tensors are immutable (forwardCached concatenates into new
  // ones), so copying the arrays is a complete copy of the cache
  const cache: KvCache = { keys: [...start.cache.keys], values: [...start.cache.values], length: start.cache.length };
  const decoder = new TextDecoder('utf-8'); // replaces bytes that are not UTF-8 with U+FFFD, never throws
  let logits = start.logits;
  let text = ''; // decoded so far
  let sent = 0; // characters of `text` already yielded
  let count = 0;
  let finish: FinishReason = 'length';

  // returns the index where a stop string begins, or -1
  const findStop = (from: number): number => {
    let at = -1;
    for (const s of stops) {
      const i = text.indexOf(s, Math.max(0, from - s.length + 1));
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    return at;
  };

  for (;;) {
    if (o.signal?.aborted) throw aborted(count);
    if (count >= limit) break;
    const id = sampleToken(logits, { temperature: o.temperature, topP: o.topP }, o.rng);
    if (id === tok.specialTokens.eos) {
      finish = 'stop';
      break;
    }
    count++;
    const before = text.length;
    // special tokens (BOS, pad) are counted but not shown, like skip_special_tokens in HF serving
    if (!specials.has(id)) text += decoder.decode(tok.tokenBytes(id), { stream: true });
    const at = findStop(before);
    if (at >= 0) {
      text = text.slice(0, at);
      if (text.length > sent) yield text.slice(sent);
      return { text, completionTokens: count, finishReason: 'stop' };
    }
    const safe = text.length - heldBack(text, stops);
    if (safe > sent) {
      yield text.slice(sent, safe);
      sent = safe;
    }
    if (count >= limit) break;
    logits = forwardCached(m.config, m.params, m.constants, cache, Int32Array.of(id));
    await tick();
  }
  const before = text.length;
  text += decoder.decode(); // an incomplete UTF-8 tail becomes U+FFFD
  const at = findStop(before);
  if (at >= 0) {
    text = text.slice(0, at);
    finish = 'stop';
  }
  if (text.length > sent) yield text.slice(sent);
  return { text, completionTokens: count, finishReason: finish };
}
