/** The gateway through app.request(): shapes, parameters and every error case (no sockets). */
import { describe, expect, it } from 'vitest';
import { createGatewayApp } from '../../src/gateway/app.ts';
import type { GatewayEvent, GatewayOptions } from '../../src/gateway/app.ts';
import type { ServedModel } from '../../src/gateway/model.ts';
import { generate } from '../../src/model/generate.ts';
import { tinyModel } from './tiny-model.ts';

const MODEL = tinyModel();

function makeApp(models: ServedModel[] = [MODEL], opts: GatewayOptions = {}) {
  let id = 0;
  return createGatewayApp(models, { now: () => 1_800_000_000_000, newId: () => `t${id++}`, randomSeed: () => 42, ...opts });
}

async function post(app: ReturnType<typeof makeApp>, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const r = await app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'swarm-nano', messages: [{ role: 'user', content: 'Hello there' }], ...extra });

/** Parses an SSE body into its data payloads. */
async function sseData(r: Response): Promise<string[]> {
  const text = await r.text();
  return text
    .split('\n\n')
    .filter((e) => e !== '')
    .map((e) => e.split('\n').map((l) => l.replace(/^data: /, '')).join('\n'));
}

function expectOpenAiError(json: any, code: string | null, param?: string | null): void {
  expect(Object.keys(json)).toEqual(['error']);
  expect(Object.keys(json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof json.error.message).toBe('string');
  expect(json.error.code).toBe(code);
  if (param !== undefined) expect(json.error.param).toBe(param);
}

describe('GET /v1/models', () => {
  it('lists the served models in OpenAI shape', async () => {
    const app = makeApp([MODEL, { ...MODEL, id: 'other' }]);
    const r = await app.request('/v1/models');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      object: 'list',
      data: [
        { id: 'swarm-nano', object: 'model', created: 1_700_000_000, owned_by: 'sovereign-swarm' },
        { id: 'other', object: 'model', created: 1_700_000_000, owned_by: 'sovereign-swarm' },
      ],
    });
    expect(((await (await app.request('/v1/models/other')).json()) as { id: string }).id).toBe('other');
    const missing = await app.request('/v1/models/nope');
    expect(missing.status).toBe(404);
    expectOpenAiError(await missing.json(), 'model_not_found', 'model');
  });
});

describe('POST /v1/chat/completions', () => {
  it('answers with a chat.completion object and usage counts', async () => {
    const { status, json } = await post(makeApp(), '/v1/chat/completions', chat({ temperature: 0, max_tokens: 12 }));
    expect(status).toBe(200);
    expect(json).toMatchObject({ id: 'chatcmpl-t0', object: 'chat.completion', created: 1_800_000_000, model: 'swarm-nano' });
    expect(json.choices).toHaveLength(1);
    expect(json.choices[0]).toMatchObject({ index: 0, message: { role: 'assistant' }, logprobs: null });
    expect(typeof json.choices[0].message.content).toBe('string');
    // "User: Hello there\nAssistant:" in bytes, plus BOS
    expect(json.usage.prompt_tokens).toBe(1 + 'User: Hello there\nAssistant:'.length);
    // this prompt's greedy answer has no EOS and no "\nUser:" in its first 12 tokens: it ends at max_tokens
    expect(json.choices[0].finish_reason).toBe('length');
    expect(json.usage.completion_tokens).toBe(12);
    expect(json.usage.total_tokens).toBe(json.usage.prompt_tokens + json.usage.completion_tokens);
  });

  it('gives the same tokens for the same seed and different ones for another seed', async () => {
    const app = makeApp();
    const a = await post(app, '/v1/chat/completions', chat({ seed: 1234, max_tokens: 20, temperature: 1.2, top_p: 0.9 }));
    const b = await post(app, '/v1/chat/completions', chat({ seed: 1234, max_tokens: 20, temperature: 1.2, top_p: 0.9 }));
    const c = await post(app, '/v1/chat/completions', chat({ seed: 1235, max_tokens: 20, temperature: 1.2, top_p: 0.9 }));
    expect(a.json.choices).toEqual(b.json.choices);
    expect(c.json.choices[0].message.content).not.toBe(a.json.choices[0].message.content);
    // a fresh app (fresh caches, fresh queue) reproduces it too
    const d = await post(makeApp(), '/v1/chat/completions', chat({ seed: 1234, max_tokens: 20, temperature: 1.2, top_p: 0.9 }));
    expect(d.json.choices).toEqual(a.json.choices);
  });

  it('with temperature 0 answers the greedy decode, whatever the seed or its absence', async () => {
    // the greedy tokens by model/generate.ts, a decode loop apart from the gateway's
    const prompt = MODEL.tokenizer.encode('User: Hello there\nAssistant:', { bos: true });
    const ids = generate(MODEL.config, MODEL.params, MODEL.constants, prompt, { maxTokens: 20, temperature: 0, topP: 1, seed: 0 });
    expect(ids).toHaveLength(20);
    expect(ids).not.toContain(MODEL.tokenizer.specialTokens.eos);
    const greedy = MODEL.tokenizer.decode(ids);
    // no seed: the app draws one (randomSeed), and which one it draws must not matter
    for (const [randomSeed, seed] of [[42, undefined], [43, undefined], [42, 1234]] as const) {
      const r = await post(makeApp([MODEL], { randomSeed: () => randomSeed }), '/v1/chat/completions', chat({ temperature: 0, max_tokens: 20, stop: [], seed }));
      expect(r.json.choices[0], `randomSeed ${randomSeed}, seed ${seed}`).toMatchObject({ message: { content: greedy }, finish_reason: 'length' });
    }
  });

  it('returns n choices, each seeded differently but reproducibly', async () => {
    const app = makeApp();
    const a = await post(app, '/v1/chat/completions', chat({ seed: 9, n: 3, max_tokens: 10 }));
    expect(a.json.choices.map((c: any) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(a.json.choices.map((c: any) => c.message.content)).size).toBe(3);
    const one = await post(app, '/v1/chat/completions', chat({ seed: 9, n: 1, max_tokens: 10 }));
    expect(one.json.choices[0].message.content).toBe(a.json.choices[0].message.content);
    expect(a.json.usage.prompt_tokens).toBe(one.json.usage.prompt_tokens);
  });

  it('stops before a stop sequence and reports finish_reason "stop"', async () => {
    const app = makeApp();
    const full = (await post(app, '/v1/chat/completions', chat({ temperature: 0, max_tokens: 30 }))).json.choices[0].message.content as string;
    expect(full.length).toBeGreaterThan(8);
    const stop = full.slice(5, 7);
    const cut = full.slice(0, full.indexOf(stop));
    for (const s of [stop, ['zzzz-never', stop]]) {
      const r = await post(app, '/v1/chat/completions', chat({ temperature: 0, max_tokens: 30, stop: s }));
      expect(r.json.choices[0]).toMatchObject({ message: { content: cut }, finish_reason: 'stop' });
    }
  });

  it('uses max_completion_tokens before max_tokens', async () => {
    const r = await post(makeApp(), '/v1/chat/completions', chat({ temperature: 0, max_tokens: 20, max_completion_tokens: 3, stop: [] }));
    expect(r.json.usage.completion_tokens).toBeLessThanOrEqual(3);
  });

  it('stops at the context limit with finish_reason "length"', async () => {
    const app = makeApp([tinyModel('short', { maxSeqLen: 40 })]);
    const r = await post(app, '/v1/chat/completions', { model: 'short', messages: [{ role: 'user', content: 'Hi' }], temperature: 0, max_tokens: 1000, stop: null });
    expect(r.status).toBe(200);
    const { prompt_tokens, completion_tokens, total_tokens } = r.json.usage;
    // the greedy answer to this prompt has no EOS before the context is full
    expect(r.json.choices[0].finish_reason).toBe('length');
    expect(total_tokens).toBe(40);
    expect(prompt_tokens + completion_tokens).toBe(40);
  });

  it('rejects a prompt that fills the context with 400 context_length_exceeded', async () => {
    const { status, json } = await post(makeApp(), '/v1/chat/completions', chat({ messages: [{ role: 'user', content: 'x'.repeat(100) }] }));
    expect(status).toBe(400);
    expectOpenAiError(json, 'context_length_exceeded', 'messages');
  });

  it('streams chunks that add up to the non-streamed answer, then usage, then [DONE]', async () => {
    const app = makeApp();
    const body = chat({ seed: 77, max_tokens: 25, temperature: 0.9 });
    const whole = (await post(app, '/v1/chat/completions', body)).json;
    const r = await app.request('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }) });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = await sseData(r);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    for (const c of chunks) expect(c).toMatchObject({ id: chunks[0].id, object: 'chat.completion.chunk', model: 'swarm-nano' });
    const text = chunks.flatMap((c) => c.choices.map((ch: any) => ch.delta.content ?? '')).join('');
    expect(text).toBe(whole.choices[0].message.content);
    const last = chunks.at(-2);
    expect(last.choices[0].finish_reason).toBe(whole.choices[0].finish_reason);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: whole.usage });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('renders a per-model chat template (Hugging Face chat_template style)', async () => {
    const templated: ServedModel = { ...MODEL, id: 'tpl', chatTemplate: '{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}>' };
    const r = await post(makeApp([templated]), '/v1/chat/completions', { model: 'tpl', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }], max_tokens: 1 });
    expect(r.json.usage.prompt_tokens).toBe(1 + '[system]be brief[user]hi>'.length);
    const bad: ServedModel = { ...MODEL, id: 'bad', chatTemplate: "{{ raise_exception('no system messages') }}" };
    const e = await post(makeApp([bad]), '/v1/chat/completions', { model: 'bad', messages: [{ role: 'user', content: 'x' }] });
    expect(e.status).toBe(400);
    expectOpenAiError(e.json, 'invalid_chat_template');
  });

  it('never turns special-token text in a message into a control token', async () => {
    const r = await post(makeApp(), '/v1/chat/completions', chat({ messages: [{ role: 'user', content: '<|end_of_text|>' }], max_tokens: 1 }));
    expect(r.json.usage.prompt_tokens).toBe(1 + 'User: <|end_of_text|>\nAssistant:'.length);
  });
});

describe('POST /v1/completions', () => {
  it('continues a prompt (16 tokens by default) and batches prompt arrays', async () => {
    const app = makeApp();
    const one = await post(app, '/v1/completions', { model: 'swarm-nano', prompt: 'Once upon', temperature: 0, stop: [] });
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ id: 'cmpl-t0', object: 'text_completion', model: 'swarm-nano' });
    expect(one.json.choices[0]).toMatchObject({ index: 0, logprobs: null });
    expect(one.json.usage.prompt_tokens).toBe(1 + 'Once upon'.length);
    expect(one.json.usage.completion_tokens).toBeLessThanOrEqual(16);
    const two = await post(app, '/v1/completions', { model: 'swarm-nano', prompt: ['Once upon', 'A'], temperature: 0, n: 2 });
    expect(two.json.choices.map((c: any) => c.index)).toEqual([0, 1, 2, 3]);
    expect(two.json.choices[0].text).toBe(one.json.choices[0].text);
    expect(two.json.choices[1].text).toBe(one.json.choices[0].text); // greedy: every sample alike
    expect(two.json.usage.prompt_tokens).toBe(1 + 'Once upon'.length + 2);
  });

  it('streams text_completion chunks ending with [DONE]', async () => {
    const app = makeApp();
    const body = { model: 'swarm-nano', prompt: 'abc', seed: 5, max_tokens: 10 };
    const whole = (await post(app, '/v1/completions', body)).json;
    const data = await sseData(await app.request('/v1/completions', { method: 'POST', body: JSON.stringify({ ...body, stream: true }) }));
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.map((c) => c.choices[0].text).join('')).toBe(whole.choices[0].text);
    expect(chunks.every((c) => c.object === 'text_completion' && !('usage' in c))).toBe(true);
  });
});

describe('errors', () => {
  const cases: Array<[string, unknown, number, string | null, string | null]> = [
    ['unknown model', chat({ model: 'gpt-4o' }), 404, 'model_not_found', 'model'],
    ['not JSON', '{"model":', 400, 'invalid_json', null],
    ['empty body', '', 400, 'invalid_json', null],
    ['array body', '[]', 400, 'invalid_value', null],
    ['missing messages', { model: 'swarm-nano' }, 400, 'invalid_value', 'messages'],
    ['empty messages', chat({ messages: [] }), 400, 'invalid_value', 'messages'],
    ['bad role', chat({ messages: [{ role: 'wizard', content: 'x' }] }), 400, 'invalid_value', 'messages.0.role'],
    ['temperature > 2', chat({ temperature: 3 }), 400, 'invalid_value', 'temperature'],
    ['top_p = 0', chat({ top_p: 0 }), 400, 'invalid_value', 'top_p'],
    ['max_tokens = 0', chat({ max_tokens: 0 }), 400, 'invalid_value', 'max_tokens'],
    ['fractional seed', chat({ seed: 1.5 }), 400, 'invalid_value', 'seed'],
    ['n too large', chat({ n: 100 }), 400, 'invalid_value', 'n'],
    ['five stop strings', chat({ stop: ['a', 'b', 'c', 'd', 'e'] }), 400, 'invalid_value', 'stop'],
    ['lone surrogate in content', chat({ messages: [{ role: 'user', content: '\ud800' }] }), 400, 'invalid_value', null],
    ['stream not boolean', chat({ stream: 'yes' }), 400, 'invalid_value', 'stream'],
  ];
  for (const [name, body, status, code, param] of cases) {
    it(`${name} → ${status}`, async () => {
      const r = await post(makeApp(), '/v1/chat/completions', body);
      expect(r.status).toBe(status);
      expectOpenAiError(r.json, code, param);
    });
  }

  it('body too large → 413, by Content-Length and by actual size', async () => {
    const app = makeApp([MODEL], { maxBodyBytes: 1000 });
    const big = JSON.stringify(chat({ messages: [{ role: 'user', content: 'x'.repeat(2000) }] }));
    const r = await app.request('/v1/chat/completions', { method: 'POST', body: big });
    expect(r.status).toBe(413);
    expectOpenAiError(await r.json(), 'request_too_large');
    // a stream without Content-Length is counted as it arrives
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const r2 = await app.request('/v1/chat/completions', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(r2.status).toBe(413);
  });

  it('unknown routes → 404 JSON error', async () => {
    const r = await makeApp().request('/v1/embeddings', { method: 'POST', body: '{}' });
    expect(r.status).toBe(404);
    expectOpenAiError(await r.json(), 'not_found');
  });

  it('reports each finished request', async () => {
    const events: GatewayEvent[] = [];
    const app = makeApp([MODEL], { onEvent: (e) => events.push(e) });
    await post(app, '/v1/chat/completions', chat({ temperature: 0, max_tokens: 3, stop: null }));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ endpoint: 'chat', model: 'swarm-nano', promptTokens: 29 });
  });
});
