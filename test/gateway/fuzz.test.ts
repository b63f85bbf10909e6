/**
 * Fuzzing the request parser: whatever bytes arrive, the answer is a JSON
 * body (an OpenAI error for anything invalid) with a 2xx/4xx status, within a
 * deadline — never a 500, a crash or a hang. fast-check is seeded globally
 * (test/setup.ts), so a failure reproduces.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGatewayApp } from '../../src/gateway/app.ts';
import { tinyModel } from './tiny-model.ts';

const app = createGatewayApp([tinyModel()], { maxBodyBytes: 4096, randomSeed: () => 1 });
const PATHS = ['/v1/chat/completions', '/v1/completions'] as const;

/** Posts `body` and checks the answer: a JSON body (an OpenAI error unless 200) or a finished SSE stream. */
async function expectWellFormedAnswer(path: string, body: string): Promise<void> {
  const r = await Promise.race([
    app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
    new Promise<never>((_, no) => setTimeout(() => no(new Error(`no answer within 5 s for ${JSON.stringify(body).slice(0, 200)}`)), 5000)),
  ]);
  expect([200, 400, 404, 413]).toContain(r.status);
  const text = await r.text();
  if (r.status === 200) {
    if (!(r.headers.get('content-type') ?? '').startsWith('text/event-stream')) JSON.parse(text);
    else expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    return;
  }
  const json = JSON.parse(text) as { error: Record<string, unknown> };
  expect(typeof json.error.message).toBe('string');
  expect(typeof json.error.type).toBe('string');
}

// values that are almost right: the right keys with any JSON, or the right types out of range
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(-1, 0, 1.5, 3, 1e308, -0, '', 'x', null, true, [], {}));
const message = fc.record({ role: fc.oneof(fc.constantFrom('system', 'user', 'assistant', 'developer', 'tool'), fc.string()), content: fc.oneof(fc.string({ maxLength: 30 }), anyValue) }, { requiredKeys: [] });
const nearlyValid = fc.record(
  {
    model: fc.oneof(fc.constant('swarm-nano'), anyValue),
    messages: fc.oneof(fc.array(message, { maxLength: 3 }), anyValue),
    prompt: fc.oneof(fc.string({ maxLength: 30 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), anyValue),
    max_tokens: fc.oneof(fc.integer({ min: -2, max: 8 }), anyValue),
    temperature: fc.oneof(fc.double({ noNaN: false }), anyValue),
    top_p: fc.oneof(fc.double(), anyValue),
    n: fc.oneof(fc.integer({ min: -1, max: 3 }), anyValue),
    stop: fc.oneof(fc.string({ maxLength: 3 }), fc.array(fc.string({ maxLength: 3 }), { maxLength: 6 }), anyValue),
    seed: fc.oneof(fc.integer(), anyValue),
    stream: fc.oneof(fc.boolean(), anyValue),
    stream_options: fc.oneof(fc.record({ include_usage: fc.oneof(fc.boolean(), anyValue) }), anyValue),
  },
  { requiredKeys: [] },
);

describe('malformed bodies', () => {
  it('random text', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...PATHS), fc.string({ maxLength: 200, unit: 'binary' }), (p, s) => expectWellFormedAnswer(p, s)));
  });

  it('random JSON values', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...PATHS), fc.jsonValue(), (p, v) => expectWellFormedAnswer(p, JSON.stringify(v))));
  });

  it('nearly valid requests', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...PATHS), nearlyValid, (p, v) => expectWellFormedAnswer(p, JSON.stringify(v))), { numRuns: 300 });
  });

  it('truncated and oversized valid bodies', async () => {
    const valid = JSON.stringify({ model: 'swarm-nano', messages: [{ role: 'user', content: 'hello' }], max_tokens: 2 });
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: valid.length }), (k) => expectWellFormedAnswer(PATHS[0], valid.slice(0, k))));
    await expectWellFormedAnswer(PATHS[0], JSON.stringify({ model: 'swarm-nano', messages: [{ role: 'user', content: 'x'.repeat(5000) }] }));
  });
});
