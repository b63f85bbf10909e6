/**
 * The OpenAI-compatible HTTP API (OpenAI API reference: Models, Chat
 * Completions, Completions), as a Hono app: handlers are Request → Response,
 * tests call app.request(), and every error goes through errors.ts.
 *
 *   GET  /v1/models                 the served models
 *   GET  /v1/models/:id             one model
 *   POST /v1/chat/completions       messages → assistant message(s), optionally streamed
 *   POST /v1/completions            prompt(s) → continuation(s), optionally streamed
 *
 * Models arrive loaded (config, params, tokenizer, engine); the CLI or the
 * tracker does the loading and mounts this app.
 *
 * Anonymous callers' share (issue 25): the generating endpoints take a
 * token per request from the caller's source address (IPv6 by its /64;
 * core/rate-limit.ts), before the body is read: by default 10 at once, then
 * one every 3 s (20 a minute), loopback exempt (the machine's own chat).
 * Past it the answer is 429 `rate_limit_exceeded` with Retry-After, as
 * OpenAI's API answers. Behind it the queue (queue.ts) stays first come,
 * first served and bounded, so one address can hold at most its burst of
 * the queue's places and every other caller still gets in line.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Clock } from '../core/clock.ts';
import { TokenBuckets, isLoopback, sourceKey } from '../core/rate-limit.ts';
import type { BucketLimit } from '../core/rate-limit.ts';
import { SwarmError, isSwarmError } from '../core/errors.ts';
import { readJsonBody } from './body.ts';
import { DEFAULT_CHAT_STOP, DEFAULT_CHAT_TEMPLATE, applyChatTemplate } from './chat-template.ts';
import { errorBody, errorResponse } from './errors.ts';
import type { DecodeResult, FinishReason } from './generation.ts';
import { choiceRng, decode, prefill } from './generation.ts';
import { ServedModels } from './model.ts';
import type { ServedModel } from './model.ts';
import type { QueueOptions } from './queue.ts';
import { RequestQueue } from './queue.ts';
import type { ChatRequest, CompletionRequest } from './schemas.ts';
import { chatRequestSchema, completionRequestSchema, parseBody } from './schemas.ts';
import { SSE_DONE, SSE_HEADERS, sseJson } from './sse.ts';

/** What happened to one request, for logs and tests. */
export interface GatewayEvent {
  endpoint: 'chat' | 'completions';
  model: string;
  promptTokens: number;
  completionTokens: number;
  outcome: FinishReason | 'aborted' | 'error';
  ms: number;
}

export interface GatewayOptions {
  /** largest request body in bytes (default 1 MiB) */
  maxBodyBytes?: number;
  /** a shared queue, or options for a new one (default: 1 at a time, 16 waiting) */
  queue?: RequestQueue | QueueOptions;
  /** wall clock in ms (injected so tests are reproducible) */
  now?: () => number;
  /** seed for requests that give none (default: crypto random u32) */
  randomSeed?: () => number;
  /** response ids (default: random UUID) */
  newId?: () => string;
  onEvent?: (e: GatewayEvent) => void;
  /** the per-source limit on generating requests (default DEFAULT_GATEWAY_RATE_LIMIT); 'off': none */
  rateLimit?: BucketLimit | 'off';
  /** loopback sources skip the limit (default true) */
  exemptLoopback?: boolean;
  /** a request's source address (default: the socket's peer; null: unknown, not limited) */
  sourceOf?: (c: Context) => string | null;
}

/** Per source address: 10 requests at once, then one every 3 s (see the file comment). */
export const DEFAULT_GATEWAY_RATE_LIMIT: BucketLimit = { burst: 10, perSecond: 1 / 3 };

function socketSource(c: Context): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null; // no socket: app.request() in tests
  }
}

/** The request, reduced to what generation needs. */
interface Job {
  endpoint: 'chat' | 'completions';
  model: ServedModel;
  prompts: Int32Array[];
  n: number;
  maxTokens: number | null;
  temperature: number;
  topP: number;
  seed: number;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

function stopList(stop: string | string[] | null | undefined): string[] {
  if (stop === null || stop === undefined) return [];
  return typeof stop === 'string' ? [stop] : stop;
}

export function createGatewayApp(models: readonly ServedModel[] | ServedModels, opts: GatewayOptions = {}): Hono {
  const catalog = models instanceof ServedModels ? models : new ServedModels(models);
  const maxBody = opts.maxBodyBytes ?? 1 << 20;
  const queue = opts.queue instanceof RequestQueue ? opts.queue : new RequestQueue(opts.queue ?? { concurrency: 1, maxWaiting: 16 });
  const now = opts.now ?? Date.now;
  const randomSeed = opts.randomSeed ?? (() => randomBytes(4).readUInt32LE(0));
  const newId = opts.newId ?? (() => randomUUID().replaceAll('-', ''));
  const emit = opts.onEvent ?? (() => undefined);
  const app = new Hono();
  const clock: Clock = { now };
  const buckets = opts.rateLimit === 'off' ? null : new TokenBuckets(opts.rateLimit ?? DEFAULT_GATEWAY_RATE_LIMIT, clock);
  const sourceOf = opts.sourceOf ?? socketSource;
  const exemptLoopback = opts.exemptLoopback ?? true;

  /** Spends the caller's token, before the body is read; GATEWAY_RATE_LIMITED (429 + Retry-After) when there is none. */
  const limit = (c: Context): void => {
    const address = sourceOf(c);
    if (buckets === null || address === null || (exemptLoopback && isLoopback(address))) return;
    const r = buckets.take(sourceKey(address));
    if (!r.ok) {
      const seconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
      throw new SwarmError('GATEWAY_RATE_LIMITED', `Rate limit reached for requests from your address; retry in ${seconds} s.`, { retryAfterMs: r.retryAfterMs });
    }
  };

  const findModel = (id: string): ServedModel => {
    const m = catalog.get(id);
    if (m === undefined) {
      throw new SwarmError('GATEWAY_UNKNOWN_MODEL', `The model '${id}' does not exist or you do not have access to it.`, { param: 'model' });
    }
    return m;
  };

  const modelObject = (m: ServedModel) => ({
    id: m.id, object: 'model', created: m.created ?? 0, owned_by: m.ownedBy ?? 'sovereign-swarm',
    ...(m.release === undefined ? {} : { release: m.release }),
    ...(m.preview === true ? { preview: true } : {}),
  });

  // shared parameters of both endpoints, with OpenAI's defaults (temperature 1, top_p 1, n 1)
  const common = (r: ChatRequest | CompletionRequest, maxTokens: number | null | undefined) => ({
    n: r.n ?? 1,
    maxTokens: maxTokens ?? null,
    temperature: r.temperature ?? 1,
    topP: r.top_p ?? 1,
    seed: r.seed ?? randomSeed(),
    stream: r.stream ?? false,
    includeUsage: r.stream_options?.include_usage ?? false,
  });

  // a prompt must leave room for a completion; checked before queueing or streaming so it is a plain 400
  const checkContext = (m: ServedModel, prompts: Int32Array[], param: string): void => {
    for (const p of prompts) {
      if (p.length >= m.config.maxSeqLen) {
        throw new SwarmError(
          'GATEWAY_CONTEXT_LENGTH',
          `This model's maximum context length is ${m.config.maxSeqLen} tokens. However, your ${param} resulted in ${p.length} tokens, leaving no room for a completion.`,
          { param },
        );
      }
    }
  };

  app.onError((err) => errorResponse(err));
  app.notFound((c) => errorResponse(new SwarmError('GATEWAY_NOT_FOUND', `Unknown request URL: ${c.req.method} ${new URL(c.req.url).pathname}`)));

  app.get('/v1/models', () => Response.json({ object: 'list', data: catalog.list().map(modelObject) }));
  app.get('/v1/models/:id{.+}', (c) => Response.json(modelObject(findModel(c.req.param('id')))));

  app.post('/v1/chat/completions', async (c) => {
    limit(c);
    const r = parseBody(chatRequestSchema, await readJsonBody(c.req.raw, maxBody));
    const model = findModel(r.model);
    const template = model.chatTemplate ?? DEFAULT_CHAT_TEMPLATE;
    const prompt = applyChatTemplate(model.tokenizer, r.messages, template);
    checkContext(model, [prompt], 'messages');
    const implicitStop = model.chatStop ?? (template === DEFAULT_CHAT_TEMPLATE ? DEFAULT_CHAT_STOP : []);
    return run(c.req.raw.signal, {
      endpoint: 'chat',
      model,
      prompts: [prompt],
      ...common(r, r.max_completion_tokens ?? r.max_tokens),
      stop: [...stopList(r.stop), ...implicitStop],
    });
  });

  app.post('/v1/completions', async (c) => {
    limit(c);
    const r = parseBody(completionRequestSchema, await readJsonBody(c.req.raw, maxBody));
    const model = findModel(r.model);
    const texts = typeof r.prompt === 'string' ? [r.prompt] : r.prompt;
    const prompts = texts.map((t) => model.tokenizer.encode(t, { bos: true }));
    checkContext(model, prompts, 'prompt');
    // the legacy endpoint defaults to 16 tokens (OpenAI API reference, completions max_tokens)
    return run(c.req.raw.signal, { endpoint: 'completions', model, prompts, ...common(r, r.max_tokens ?? 16), stop: stopList(r.stop) });
  });

  /**
   * Takes a place in the queue (429 now if full), then generates every
   * choice: prompt p, sample i is choice p * n + i (OpenAI's index order for
   * batched prompts). Streams or answers once at the end.
   */
  async function run(clientSignal: AbortSignal, job: Job): Promise<Response> {
    const ac = new AbortController();
    const onClientAbort = (): void => ac.abort();
    clientSignal.addEventListener('abort', onClientAbort, { once: true });
    if (clientSignal.aborted) ac.abort();
    let entered: Promise<() => void>;
    try {
      entered = queue.enter(ac.signal);
    } catch (e) {
      clientSignal.removeEventListener('abort', onClientAbort);
      throw e;
    }
    const id = `${job.endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${newId()}`;
    const created = Math.floor(now() / 1000);
    const t0 = now();
    let promptTokens = 0;
    let completionTokens = 0;
    const finish = (outcome: GatewayEvent['outcome']): void => {
      clientSignal.removeEventListener('abort', onClientAbort);
      emit({ endpoint: job.endpoint, model: job.model.id, promptTokens, completionTokens, outcome, ms: now() - t0 });
    };

    /** Runs every choice; `onText` receives each piece of text as it is final. */
    async function generateAll(onStart: (index: number) => void, onText: (index: number, text: string) => void): Promise<Array<DecodeResult & { index: number }>> {
      const release = await entered;
      try {
        const results: Array<DecodeResult & { index: number }> = [];
        for (const [p, prompt] of job.prompts.entries()) {
          const pre = prefill(job.model, prompt);
          promptTokens += pre.promptTokens;
          for (let i = 0; i < job.n; i++) {
            const index = p * job.n + i;
            onStart(index);
            const rng = job.temperature === 0 ? null : choiceRng(job.seed, i);
            const it = decode(job.model, pre, { maxTokens: job.maxTokens, temperature: job.temperature, topP: job.topP, rng, stop: job.stop, signal: ac.signal });
            try {
              for (;;) {
                const step = await it.next();
                if (step.done) {
                  completionTokens += step.value.completionTokens;
                  results.push({ ...step.value, index });
                  break;
                }
                onText(index, step.value);
              }
            } catch (e) {
              // count the tokens an aborted choice produced before it stopped
              if (isSwarmError(e, 'GATEWAY_ABORTED')) completionTokens += Number(e.details?.completionTokens ?? 0);
              throw e;
            }
          }
        }
        return results;
      } finally {
        release();
      }
    }

    const usage = (): Usage => ({ prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens });
    const isChat = job.endpoint === 'chat';
    const object = isChat ? 'chat.completion' : 'text_completion';

    if (!job.stream) {
      try {
        const results = await generateAll(() => undefined, () => undefined);
        finish(results.every((r) => r.finishReason === 'stop') ? 'stop' : 'length');
        const choices = results.map((r) =>
          isChat
            ? { index: r.index, message: { role: 'assistant', content: r.text, refusal: null }, logprobs: null, finish_reason: r.finishReason }
            : { index: r.index, text: r.text, logprobs: null, finish_reason: r.finishReason },
        );
        return Response.json({ id, object, created, model: job.model.id, choices, usage: usage() });
      } catch (e) {
        finish(isSwarmError(e, 'GATEWAY_ABORTED') ? 'aborted' : 'error');
        throw e;
      }
    }

    // Streaming: chunk objects as in the OpenAI reference ("The chat completion chunk object")
    const chunkObject = isChat ? 'chat.completion.chunk' : 'text_completion';
    const extra = job.includeUsage ? { usage: null } : {};
    const chunk = (index: number, part: { delta?: Record<string, unknown>; text?: string }, finishReason: FinishReason | null) => ({
      id,
      object: chunkObject,
      created,
      model: job.model.id,
      choices: [isChat ? { index, delta: part.delta ?? {}, logprobs: null, finish_reason: finishReason } : { index, text: part.text ?? '', logprobs: null, finish_reason: finishReason }],
      ...extra,
    });
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (b: Uint8Array): void => {
          if (!ac.signal.aborted) controller.enqueue(b);
        };
        try {
          const results = await generateAll(
            (index) => {
              if (isChat) send(sseJson(chunk(index, { delta: { role: 'assistant', content: '' } }, null)));
            },
            (index, text) => send(sseJson(isChat ? chunk(index, { delta: { content: text } }, null) : chunk(index, { text }, null))),
          );
          for (const r of results) send(sseJson(chunk(r.index, {}, r.finishReason)));
          if (job.includeUsage) send(sseJson({ id, object: chunkObject, created, model: job.model.id, choices: [], usage: usage() }));
          send(SSE_DONE);
          finish(results.every((r) => r.finishReason === 'stop') ? 'stop' : 'length');
        } catch (e) {
          const wasAbort = isSwarmError(e, 'GATEWAY_ABORTED');
          finish(wasAbort ? 'aborted' : 'error');
          // an error after the 200 went out travels as an event (the SDKs raise
          // APIError for a data event with an `error` field)
          if (!wasAbort) send(sseJson(errorBody(e).body));
        }
        try {
          controller.close();
        } catch {
          // already closed by a cancel
        }
      },
      cancel() {
        ac.abort(); // the client went away: stop generating at the next token
      },
    });
    return new Response(body, { status: 200, headers: SSE_HEADERS });
  }

  return app;
}

