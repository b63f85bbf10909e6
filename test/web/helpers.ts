/** What the dashboard's browser tests share besides Chromium (chromium.ts). */
import { expect } from 'vitest';
import type { RunningTracker } from '../../src/cli/tracker.ts';

/** GET a tracker's JSON route; it must answer 200. */
export async function api<T>(t: RunningTracker, path: string): Promise<T> {
  const res = await fetch(t.url + path);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}
