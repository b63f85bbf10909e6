/**
 * `swarm up`'s supervisor (issue 24): a local provider process that dies is
 * started again (same slot, so the same state directory), with a doubling
 * back-off; stop() ends supervision and nothing is restarted after it.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/cli/supervisor.ts';

const idle = () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
const waitUntil = async (f: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('Supervisor', () => {
  it('restarts a process killed with SIGKILL in its slot, backs off on repeated deaths, and stops for good', async () => {
    const started: number[] = [];
    const restarts: Array<{ i: number; how: string; delayMs: number }> = [];
    const sup = new Supervisor({
      spawn: (i) => {
        started.push(i);
        return idle();
      },
      onRestart: (i, how, delayMs) => restarts.push({ i, how, delayMs }),
      baseMs: 50,
      capMs: 1_000,
    });
    sup.start(2);
    expect(started).toEqual([0, 1]);
    const victim = sup.children()[1]!;
    victim.kill('SIGKILL');
    await waitUntil(() => started.length === 3, 5_000);
    expect(started[2]).toBe(1);
    expect(restarts[0]).toEqual({ i: 1, how: 'killed by SIGKILL', delayMs: 50 });
    await waitUntil(() => sup.children().length === 2, 5_000);
    sup.children()[1]!.kill('SIGKILL'); // children() lists live processes in slot order
    await waitUntil(() => restarts.length === 2, 5_000);
    expect(restarts[1]).toEqual({ i: 1, how: 'killed by SIGKILL', delayMs: 100 }); // died again at once: twice the wait
    await waitUntil(() => sup.children().length === 2, 5_000);
    const last = sup.children();
    sup.stop('SIGKILL');
    await Promise.all(last.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))));
    await new Promise((r) => setTimeout(r, 200));
    expect(started).toHaveLength(4); // nothing restarted after stop()
    expect(sup.restarts).toBe(2);
  });
});
