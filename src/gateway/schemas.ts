/**
 * Request bodies, parsed by zod before anything else looks at them (DESIGN.md,
 * Identity and security: every input parsed by a schema with size limits).
 * Field names and ranges follow the OpenAI API reference for
 * POST /v1/chat/completions and POST /v1/completions. Fields we do not act on
 * (user, metadata, presence_penalty, ...) are accepted and dropped, as
 * OpenAI-compatible servers do, so existing clients work unchanged; fields we
 * do act on are checked strictly.
 */
import { z } from 'zod';
import { invalidParam } from './errors.ts';

/** Limits on what one request may ask for (the body itself is capped in app.ts). */
export const LIMITS = {
  messages: 512,
  contentChars: 1 << 20,
  stopSequences: 4, // OpenAI: "Up to 4 sequences"
  stopChars: 256,
  n: 8,
  prompts: 16,
  modelChars: 256,
  maxTokens: 1 << 20,
} as const;

const stop = z
  .union([z.string().max(LIMITS.stopChars), z.array(z.string().max(LIMITS.stopChars)).max(LIMITS.stopSequences)])
  .nullable()
  .optional();

/** Sampling parameters shared by both endpoints (OpenAI ranges: temperature [0, 2], top_p (0, 1]). */
const sampling = {
  model: z.string().min(1).max(LIMITS.modelChars),
  max_tokens: z.number().int().min(1).max(LIMITS.maxTokens).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(LIMITS.n).nullable().optional(),
  stop,
  seed: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
};

const textPart = z.object({ type: z.literal('text'), text: z.string().max(LIMITS.contentChars) });
const content = z.union([z.string().max(LIMITS.contentChars), z.array(textPart).max(LIMITS.messages)]);

const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content, name: z.string().max(256).optional() }),
  z.object({ role: z.literal('developer'), content, name: z.string().max(256).optional() }),
  z.object({ role: z.literal('user'), content, name: z.string().max(256).optional() }),
  // an assistant turn may have null content when it only carried tool calls
  z.object({ role: z.literal('assistant'), content: content.nullable().optional(), name: z.string().max(256).optional() }),
]);

export const chatRequestSchema = z.object({
  ...sampling,
  messages: z.array(message).min(1).max(LIMITS.messages),
  // the newer name of max_tokens (OpenAI deprecated max_tokens for chat in favour of it)
  max_completion_tokens: z.number().int().min(1).max(LIMITS.maxTokens).nullable().optional(),
});

export const completionRequestSchema = z.object({
  ...sampling,
  prompt: z.union([z.string().max(LIMITS.contentChars), z.array(z.string().max(LIMITS.contentChars)).min(1).max(LIMITS.prompts)]),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type CompletionRequest = z.infer<typeof completionRequestSchema>;
export type ChatMessage = z.infer<typeof message>;

/** Parses `body` with `schema`; the first issue becomes a 400 naming its parameter. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const param = issue.path.length === 0 ? null : issue.path.map(String).join('.');
  throw invalidParam(param, param === null ? `Invalid request body: ${issue.message}` : `Invalid value for '${param}': ${issue.message}`);
}

/** Text of a message's content (parts are concatenated, as OpenAI does for text-only parts). */
export function contentText(c: ChatMessage['content']): string {
  if (c === null || c === undefined) return '';
  if (typeof c === 'string') return c;
  return c.map((p) => p.text).join('');
}
