/**
 * top_p reaches the sampler (issue 26, a surviving mutant: the gateway
 * ignoring top_p, always 1, passed every gateway test). At temperature 1 a
 * tiny nucleus keeps only the most likely token at every step, so the answer
 * is the greedy one; with top_p 1 the same seed samples a different text.
 */
import { describe, expect, it } from 'vitest';
import { createGatewayApp } from '../../src/gateway/app.ts';
import { tinyModel } from './tiny-model.ts';

const MODEL = tinyModel();

async function content(body: Record<string, unknown>): Promise<string> {
  let id = 0;
  const app = createGatewayApp([MODEL], { now: () => 1_800_000_000_000, newId: () => `t${id++}`, randomSeed: () => 42 });
  const r = await app.request('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'swarm-nano', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 16, stop: [], ...body }),
  });
  expect(r.status).toBe(200);
  const json = (await r.json()) as { choices: Array<{ message: { content: string } }> };
  return json.choices[0]!.message.content;
}

describe('top_p on /v1/chat/completions', () => {
  it('a tiny top_p at temperature 1 answers the greedy text, while top_p 1 with the same seed does not', async () => {
    const greedy = await content({ temperature: 0 });
    expect(greedy.length).toBeGreaterThan(0);
    for (const seed of [1, 2, 3]) {
      expect(await content({ temperature: 1, top_p: 1e-6, seed }), `seed ${seed}`).toBe(greedy);
      expect(await content({ temperature: 1, top_p: 1, seed }), `seed ${seed}`).not.toBe(greedy);
    }
  });

  it('a smaller nucleus changes the sampled text for the same seed', async () => {
    const wide = await content({ temperature: 1.5, top_p: 1, seed: 5 });
    const narrow = await content({ temperature: 1.5, top_p: 0.3, seed: 5 });
    expect(narrow).not.toBe(wide);
  });
});
