/** `swarm serve`'s loading and listening, and `swarm chat`'s streaming client, against each other. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiBase, firstModel, streamChat } from '../../src/cli/chat.ts';
import type { Listening } from '../../src/cli/serve.ts';
import { listen, loadServedModel } from '../../src/cli/serve.ts';
import { createGatewayApp } from '../../src/gateway/app.ts';
import { writeCheckpointDir } from '../../src/model/format/checkpoint-dir.ts';
import { toHfLlamaConfig } from '../../src/model/format/hf-config.ts';
import { toHfTensors } from '../../src/model/format/weights.ts';
import { paramList } from '../../src/model/llama.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { tinyModel } from './tiny-model.ts';

const source = tinyModel();
let dir: string;
let server: Listening;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swarm-serve-'));
  const c = source.config;
  await writeCheckpointDir(join(dir, 'ck'), {
    config: toHfLlamaConfig(c),
    tensors: toHfTensors(c, paramList(source.params).map((t) => t.data as Float32Array)),
    tokenizerJson: source.tokenizer.toHfJson(),
    extraFiles: { 'tokenizer_config.json': JSON.stringify({ chat_template: '{% for m in messages %}{{ m.content }}|{% endfor %}' }) },
  });
  const served = await loadServedModel(join(dir, 'ck'), new Engine(createRefBackend()));
  server = await listen(createGatewayApp([served, source]), { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('swarm serve + swarm chat', () => {
  it('loads a checkpoint directory under its directory name, with its chat_template', async () => {
    expect(await firstModel(server.url)).toBe('ck');
    const r = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'ck', messages: [{ role: 'user', content: 'abc' }], max_tokens: 1 }),
    });
    expect(((await r.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBe('abc|'.length);
  });

  it('the loaded model decodes exactly like the in-memory one', async () => {
    const ask = (model: string) =>
      fetch(`${server.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ model, prompt: 'Hi', seed: 3, max_tokens: 12 }) }).then((r) => r.json());
    const [a, b] = (await Promise.all([ask('ck'), ask('swarm-nano')])) as Array<{ choices: Array<{ text: string }> }>;
    expect(a!.choices[0]!.text).toBe(b!.choices[0]!.text);
  });

  it('streamChat prints the same reply the server gives unstreamed', async () => {
    const messages = [{ role: 'user' as const, content: 'Hello' }];
    const pieces: string[] = [];
    const reply = await streamChat({ url: server.url, model: 'swarm-nano', messages, maxTokens: 15, seed: 8, temperature: 1 }, (t) => pieces.push(t));
    expect(pieces.join('')).toBe(reply);
    const whole = (await (
      await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'swarm-nano', messages, max_tokens: 15, seed: 8, temperature: 1 }) })
    ).json()) as { choices: Array<{ message: { content: string } }> };
    expect(reply).toBe(whole.choices[0]!.message.content);
  });

  it('streamChat reports server errors', async () => {
    await expect(streamChat({ url: `${server.url}/v1/`, model: 'nope', messages: [{ role: 'user', content: 'x' }] }, () => undefined)).rejects.toMatchObject({
      code: 'CHAT_HTTP',
      details: { status: 404 },
    });
    expect(apiBase('http://h:1/')).toBe('http://h:1/v1');
  });
});
