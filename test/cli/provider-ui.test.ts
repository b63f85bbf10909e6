/**
 * The provider's local page API (src/cli/provider-ui.ts, issue 17): only a
 * request with the per-start token, from this origin and for a loopback
 * host, may read or drive it (403 PROVIDER_UI_FORBIDDEN otherwise); a bad
 * policy is 400 with a code and changes nothing; and pause really stops the
 * provider taking units — against a real in-process tracker (the harness),
 * the replicas leased to it stay constant while it is paused and grow again
 * after resume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.ts';
import { sleep } from '../../src/core/sleep.ts';
import { createProviderUiApp, startProviderUi, TOKEN_HEADER, UI_NOT_BUILT_TEXT } from '../../src/cli/provider-ui.ts';
import type { ProviderUiStatus } from '../../src/cli/provider-ui.ts';
import { MemoryBlobCache } from '../../src/provider/blob-cache.ts';
import { ProviderLoop } from '../../src/provider/loop.ts';
import type { UnitRunner } from '../../src/provider/loop.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { runUnit } from '../../src/train/work/run-unit.ts';
import { codeOfAsync } from '../helpers/errors.ts';
import { keyOf, nanoEvalUnit, startHarness } from '../tracker/harness.ts';
import type { Harness } from '../tracker/harness.ts';

const TOKEN = 'test-token-0123456789';
const ORIGIN = 'http://127.0.0.1:7071';
const engine = new Engine(createRefBackend());

describe('the provider page API', () => {
  let h: Harness;
  let loop: ProviderLoop;
  let app: ReturnType<typeof createProviderUiApp>;
  const key = keyOf(77);

  beforeAll(async () => {
    h = await startHarness({ suite: 'provider_ui' });
    const ev = nanoEvalUnit(3);
    const trainer = h.client(h.trainerKey);
    for (const b of ev.blobs) await trainer.putBlob(b);
    for (let b = 0; b < 2; b++) {
      await trainer.createUnits({ run: 'ui-run', units: Array.from({ length: 25 }, (_, i) => ({ id: `ui.u${b * 25 + i}`, kind: 'eval' as const, spec: ev.spec })) });
    }
    // each unit "takes" 2.5 s of the tracker's clock, so the loop asks for one at a time (as for a
    // DiLoCo slot), and 40 ms of real time, so the test sees it working
    const runner: UnitRunner = {
      run: async (spec, blobs) => {
        h.clock.advance(2_500);
        await sleep(40);
        return runUnit(engine, spec, (x) => blobs.get(x));
      },
    };
    loop = new ProviderLoop({
      client: h.client(key), runner, cache: new MemoryBlobCache(), clock: h.clock, rng: Prng.fromSeed(9), name: 'ui-provider', threads: 1, memoryBytes: 1,
      // real waits, kept short: the loop goes round while paused
      sleep: (ms, signal) => sleep(Math.min(ms, 20), signal),
      paused: true,
    });
    app = createProviderUiApp({ control: loop, info: { name: 'ui-provider', id: key.keyId, tracker: 'http://tracker.test', idleProbe: false }, token: TOKEN, dir: '/nonexistent/provider-page' });
  });
  afterAll(async () => {
    loop?.stop({ now: true });
    await h?.close();
  });

  const call = (method: string, path: string, o: { token?: string | null; body?: unknown; raw?: string; type?: string; origin?: string; host?: string } = {}): Promise<Response> => {
    const headers: Record<string, string> = {};
    if (o.token !== null) headers[TOKEN_HEADER] = o.token ?? TOKEN;
    if (o.body !== undefined || o.raw !== undefined) headers['content-type'] = o.type ?? 'application/json';
    if (o.origin !== undefined) headers.origin = o.origin;
    const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    return Promise.resolve(app.fetch(new Request(`http://${o.host ?? '127.0.0.1:7071'}${path}`, { method, headers, ...(body === undefined ? {} : { body }) })));
  };
  const json = async <T>(res: Response, status: number): Promise<T> => {
    expect(res.status).toBe(status);
    return (await res.json()) as T;
  };
  const code = async (res: Response, status: number): Promise<string> => (await json<{ error: { code: string; message: string } }>(res, status)).error.code;
  const status = async (): Promise<ProviderUiStatus> => json<ProviderUiStatus>(await call('GET', '/api/status'), 200);
  const leased = async (): Promise<number> => Number((await h.db.query<{ n: number | string }>('SELECT count(*) AS n FROM replicas WHERE provider = $1', [key.keyId]))[0]!.n);

  it('refuses every API request without the token, or from another origin or host name, with 403', async () => {
    for (const method of ['GET', 'POST', 'PUT']) {
      const path = method === 'GET' ? '/api/status' : method === 'POST' ? '/api/pause' : '/api/policy';
      expect(await code(await call(method, path, { token: null, ...(method === 'PUT' ? { body: { maxCpu: 5 } } : {}) }), 403)).toBe('PROVIDER_UI_FORBIDDEN');
      expect(await code(await call(method, path, { token: 'wrong', ...(method === 'PUT' ? { body: { maxCpu: 5 } } : {}) }), 403)).toBe('PROVIDER_UI_FORBIDDEN');
    }
    expect(await code(await call('POST', '/api/resume', { token: `${TOKEN}x` }), 403)).toBe('PROVIDER_UI_FORBIDDEN');
    // another local web page (another port is another origin) even with the token; a rebound DNS name
    expect(await code(await call('POST', '/api/resume', { origin: 'http://127.0.0.1:8000' }), 403)).toBe('PROVIDER_UI_FORBIDDEN');
    expect(await code(await call('GET', '/api/status', { host: 'evil.example:7071' }), 403)).toBe('PROVIDER_UI_FORBIDDEN');
    // none of it changed anything
    expect(loop.paused).toBe(true);
    expect(loop.policy.maxCpu).toBe(100);
    // with the token, from this origin
    const s = await json<ProviderUiStatus>(await call('GET', '/api/status', { origin: ORIGIN }), 200);
    expect(s).toMatchObject({ provider: { name: 'ui-provider', id: key.keyId }, paused: true, policy: { threads: 1, maxCpu: 100, idleOnly: false, hours: null } });
    expect(await code(await call('GET', '/api/nothing'), 404)).toBe('PROVIDER_UI_NOT_FOUND');
    // the page itself needs no token (it holds no data); without a build it says how to make one
    const page = await call('GET', '/', { token: null });
    expect(page.status).toBe(503);
    expect(await page.text()).toBe(UI_NOT_BUILT_TEXT);
  });

  it('validates the policy: bad values are 400 with a code and change nothing; good ones are in force at once', async () => {
    const before = loop.policy;
    const bad: Array<[unknown, string, number]> = [
      [{ maxCpu: 0 }, 'PROVIDER_BAD_POLICY', 400],
      [{ maxCpu: 101 }, 'PROVIDER_BAD_POLICY', 400],
      [{ maxCpu: '50' }, 'PROVIDER_BAD_POLICY', 400],
      [{ threads: 0 }, 'PROVIDER_BAD_POLICY', 400],
      [{ threads: 2.5 }, 'PROVIDER_BAD_POLICY', 400],
      [{ threads: 1e9 }, 'PROVIDER_BAD_POLICY', 400],
      [{ hours: { from: 5, to: 5 } }, 'PROVIDER_BAD_POLICY', 400],
      [{ hours: { from: 24, to: 3 } }, 'PROVIDER_BAD_POLICY', 400],
      [{ hours: '25-3' }, 'PROVIDER_BAD_POLICY', 400],
      [{ hours: { from: 1, to: 2, tz: 'x' } }, 'PROVIDER_BAD_POLICY', 400],
      [{ idleOnly: 'yes' }, 'PROVIDER_BAD_POLICY', 400],
      // this provider has no idle probe: idle-only cannot be turned on
      [{ idleOnly: true }, 'PROVIDER_BAD_POLICY', 400],
      [{ maxCpu: 50, extra: 1 }, 'PROVIDER_BAD_POLICY', 400],
      [[1, 2], 'PROVIDER_BAD_POLICY', 400],
    ];
    for (const [body, c, st] of bad) expect(await code(await call('PUT', '/api/policy', { body }), st), JSON.stringify(body)).toBe(c);
    expect(await code(await call('PUT', '/api/policy', { raw: '{"maxCpu": 5' }), 400)).toBe('PROVIDER_UI_BAD_JSON');
    expect(await code(await call('PUT', '/api/policy', { raw: 'maxCpu=5', type: 'application/x-www-form-urlencoded' }), 415)).toBe('PROVIDER_UI_UNSUPPORTED_MEDIA');
    expect(await code(await call('PUT', '/api/policy', { raw: JSON.stringify({ maxCpu: 5, pad: 'x'.repeat(5000) }) }), 413)).toBe('PROVIDER_UI_BODY_TOO_LARGE');
    expect(loop.policy).toEqual(before);

    const s = await json<ProviderUiStatus>(await call('PUT', '/api/policy', { body: { maxCpu: 50, threads: 3, hours: '22-7' } }), 200);
    expect(s.policy).toEqual({ threads: 3, maxCpu: 50, idleOnly: false, hours: { from: 22, to: 7 } });
    expect(loop.policy).toEqual(s.policy);
    const back = await json<ProviderUiStatus>(await call('PUT', '/api/policy', { body: { maxCpu: 100, threads: 1, hours: null } }), 200);
    expect(back.policy).toEqual(before);
  });

  it('pause stops the provider taking units from a real tracker; resume takes them again', async () => {
    const running = loop.run();
    // started paused: registered, but nothing leased
    await expect.poll(async () => (await status()).status.state).toBe('paused');
    expect(await leased()).toBe(0);
    await json<ProviderUiStatus>(await call('POST', '/api/resume'), 200);
    await expect.poll(async () => (await status()).status.completed, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);

    const paused = await json<ProviderUiStatus>(await call('POST', '/api/pause'), 200);
    expect(paused.paused).toBe(true);
    // the unit in hand (if any) finishes and is reported; then it sits paused
    await expect.poll(async () => (await status()).status.state, { timeout: 20_000 }).toBe('paused');
    const atPause = await leased();
    const doneAtPause = (await status()).status.completed;
    expect(atPause).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 80)); // the loop goes round every 20 ms
      expect(await leased()).toBe(atPause);
      expect((await status()).status).toMatchObject({ state: 'paused', completed: doneAtPause });
    }

    const resumed = await json<ProviderUiStatus>(await call('POST', '/api/resume'), 200);
    expect(resumed.paused).toBe(false);
    await expect.poll(leased, { timeout: 20_000 }).toBeGreaterThan(atPause);
    await expect.poll(async () => (await status()).status.completed, { timeout: 20_000 }).toBeGreaterThan(doneAtPause);
    loop.stop();
    const final = await running;
    expect(final.failed).toBe(0);
  }, 60_000);
});

describe('startProviderUi', () => {
  it('listens on 127.0.0.1 with the token in its address; a taken default port falls back, a taken explicit one is an error', async () => {
    const control = { status: { state: 'idle' }, paused: false, policy: { threads: 1, maxCpu: 100, idleOnly: false, hours: null }, pause: () => undefined, resume: () => undefined, setPolicy: () => control.policy };
    const info = { name: 'x', id: 'k', tracker: 'http://t', idleProbe: true };
    const a = await startProviderUi({ control: control as never, info, port: 0 });
    try {
      const u = new URL(a.url);
      expect(u.hostname).toBe('127.0.0.1');
      const token = u.searchParams.get('token')!;
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const ok = await fetch(new URL('/api/status', a.url), { headers: { [TOKEN_HEADER]: token } });
      expect(ok.status).toBe(200);
      expect((await fetch(new URL('/api/status', a.url))).status).toBe(403);
      expect(await codeOfAsync(startProviderUi({ control: control as never, info, port: a.port }))).toBe('PROVIDER_UI_LISTEN');
      const b = await startProviderUi({ control: control as never, info, port: a.port, fallback: true });
      expect(b.port).not.toBe(a.port);
      expect(new URL(b.url).searchParams.get('token')).not.toBe(token); // a new token per start
      await b.close();
    } finally {
      await a.close();
    }
  });
});
