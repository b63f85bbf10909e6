/**
 * The gateway's per-source share (src/gateway/app.ts, issue 25): past its
 * burst a source address gets 429 rate_limit_exceeded with Retry-After,
 * before its body is read; other sources and loopback are not affected; the
 * bucket refills with time.
 */
import { describe, expect, it } from 'vitest';
import { createGatewayApp } from '../../src/gateway/app.ts';
import { tinyModel } from './tiny-model.ts';

describe('gateway rate limit per source', () => {
  it('refuses a source past its burst with 429 + Retry-After; others, loopback and a later request pass', async () => {
    let t = 1_800_000_000_000;
    const model = tinyModel();
    const app = createGatewayApp([model], {
      now: () => t, randomSeed: () => 1, rateLimit: { burst: 2, perSecond: 1 / 30 },
      sourceOf: (c) => c.req.header('x-test-source') ?? null,
    });
    const ask = async (source: string, body = JSON.stringify({ model: model.id, prompt: 'a', max_tokens: 1 })): Promise<Response> =>
      app.request('/v1/completions', { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-test-source': source } });
    expect((await ask('198.51.100.1')).status).toBe(200);
    expect((await ask('198.51.100.1')).status).toBe(200);
    // refused before the body is even parsed: this one is not JSON
    const refused = await ask('198.51.100.1', 'not json');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(((await refused.json()) as { error: { code: string; type: string } }).error).toMatchObject({ code: 'rate_limit_exceeded', type: 'rate_limit_error' });
    expect((await ask('198.51.100.2')).status).toBe(200);
    expect((await ask('127.0.0.1')).status).toBe(200);
    t += 30_000;
    expect((await ask('198.51.100.1')).status).toBe(200);
  });
});
