/**
 * End to end with the official `openai` npm client against a real HTTP
 * server on 127.0.0.1 (port 0): if the SDK parses it, existing tools will.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Listening } from '../../src/cli/serve.ts';
import { listen } from '../../src/cli/serve.ts';
import { createGatewayApp } from '../../src/gateway/app.ts';
import type { GatewayEvent } from '../../src/gateway/app.ts';
import { RequestQueue } from '../../src/gateway/queue.ts';
import { tinyModel } from './tiny-model.ts';

const MODEL = tinyModel();
const LONG = tinyModel('long', { maxSeqLen: 1024 });
const events: GatewayEvent[] = [];
const queue = new RequestQueue({ concurrency: 1, maxWaiting: 1 });
let server: Listening;
let client: OpenAI;

beforeAll(async () => {
  server = await listen(createGatewayApp([MODEL, LONG], { queue, maxBodyBytes: 64 * 1024, onEvent: (e) => events.push(e) }), { port: 0, host: '127.0.0.1' });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await server.close();
});

const messages = [{ role: 'user' as const, content: 'Say something.' }];

describe('the official openai client', () => {
  it('lists models', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual(['swarm-nano', 'long']);
    expect((await client.models.retrieve('long')).id).toBe('long');
  });

  it('gets a chat completion', async () => {
    const r = await client.chat.completions.create({ model: 'swarm-nano', messages, max_completion_tokens: 10, temperature: 0 });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]!.message.role).toBe('assistant');
    expect(['stop', 'length']).toContain(r.choices[0]!.finish_reason);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
  });

  it('streams a chat completion that matches the non-streamed one, with usage', async () => {
    const body = { model: 'swarm-nano', messages, max_tokens: 20, seed: 11, temperature: 1 };
    const whole = await client.chat.completions.create(body);
    const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const ch of chunk.choices) {
        text += ch.delta.content ?? '';
        finish = ch.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(finish).toBe(whole.choices[0]!.finish_reason);
    expect(usage).toEqual(whole.usage);
  });

  it('reproduces sampled tokens for the same seed', async () => {
    const ask = (seed: number) => client.chat.completions.create({ model: 'swarm-nano', messages, max_tokens: 24, seed, temperature: 1, top_p: 0.95, n: 2 });
    const [a, b, c] = [await ask(5), await ask(5), await ask(6)];
    expect(a.choices.map((x) => x.message.content)).toEqual(b.choices.map((x) => x.message.content));
    expect(a.choices.map((x) => x.message.content)).not.toEqual(c.choices.map((x) => x.message.content));
  });

  it('honours stop sequences, streamed and not', async () => {
    const full = (await client.completions.create({ model: 'swarm-nano', prompt: 'The', max_tokens: 30, temperature: 0 })).choices[0]!.text;
    const stop = full.slice(6, 8);
    const expected = full.slice(0, full.indexOf(stop));
    const r = await client.completions.create({ model: 'swarm-nano', prompt: 'The', max_tokens: 30, temperature: 0, stop: [stop] });
    expect(r.choices[0]).toMatchObject({ text: expected, finish_reason: 'stop' });
    let streamed = '';
    for await (const ch of await client.completions.create({ model: 'swarm-nano', prompt: 'The', max_tokens: 30, temperature: 0, stop, stream: true })) {
      streamed += ch.choices[0]?.text ?? '';
    }
    expect(streamed).toBe(expected);
  });

  it('raises typed errors: 404 unknown model, 400 bad parameter, 413 too large', async () => {
    await expect(client.chat.completions.create({ model: 'gpt-5', messages })).rejects.toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    await expect(client.chat.completions.create({ model: 'swarm-nano', messages, temperature: 9 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(client.chat.completions.create({ model: 'swarm-nano', messages: [{ role: 'user', content: 'x'.repeat(100_000) }] })).rejects.toMatchObject({
      status: 413,
      code: 'request_too_large',
    });
  });

  it('answers 429 when the queue is full, and a disconnect frees its place', async () => {
    const ac = new AbortController();
    // occupies the one running slot with a long stream
    const running = await client.chat.completions.create({ model: 'long', messages, max_tokens: 900, temperature: 0, stream: true }, { signal: ac.signal });
    const it1 = running[Symbol.asyncIterator]();
    await it1.next(); // generation has started
    expect(queue.stats.running).toBe(1);
    // one may wait...
    const waiting = client.chat.completions.create({ model: 'swarm-nano', messages, max_tokens: 2 });
    await new Promise((r) => setTimeout(r, 20));
    expect(queue.stats.waiting).toBe(1);
    // ...the next is refused
    const refused = client.chat.completions.create({ model: 'swarm-nano', messages, max_tokens: 2 });
    await expect(refused).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(refused).rejects.toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    // the client hangs up: its generation stops early and the waiting request runs
    ac.abort();
    const w = await waiting;
    expect(w.choices).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 20));
    const aborted = events.find((e) => e.model === 'long');
    expect(aborted).toMatchObject({ outcome: 'aborted' });
    // usage counts what was generated before the hang-up: some tokens, far fewer than asked
    expect(aborted!.completionTokens).toBeGreaterThan(0);
    expect(aborted!.completionTokens).toBeLessThan(900);
    expect(queue.stats).toEqual({ running: 0, waiting: 0 });
  });
});
