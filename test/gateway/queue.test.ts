import { describe, expect, it } from 'vitest';
import { RequestQueue } from '../../src/gateway/queue.ts';

describe('RequestQueue', () => {
  it('runs in arrival order, refuses past the bound, and hands slots over', async () => {
    const q = new RequestQueue({ concurrency: 1, maxWaiting: 2 });
    const order: number[] = [];
    const first = await q.enter();
    const second = q.enter().then((rel) => (order.push(2), rel));
    const third = q.enter().then((rel) => (order.push(3), rel));
    expect(() => q.enter()).toThrow(expect.objectContaining({ code: 'GATEWAY_QUEUE_FULL' }));
    expect(q.stats).toEqual({ running: 1, waiting: 2 });
    first();
    first(); // releasing twice is harmless
    (await second)();
    (await third)();
    expect(order).toEqual([2, 3]);
    expect(q.stats).toEqual({ running: 0, waiting: 0 });
  });

  it('drops a waiter whose signal aborts', async () => {
    const q = new RequestQueue({ concurrency: 1, maxWaiting: 1 });
    const release = await q.enter();
    const ac = new AbortController();
    const waiting = q.enter(ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'GATEWAY_ABORTED' });
    expect(q.stats).toEqual({ running: 1, waiting: 0 });
    release();
    expect(q.stats).toEqual({ running: 0, waiting: 0 });
  });
});
