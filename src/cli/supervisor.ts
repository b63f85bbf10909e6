/**
 * Keeps `swarm up`'s local provider processes alive (issue 24): a provider
 * that exits while the swarm still needs it (a crash, an OOM kill, kill -9)
 * is started again on the same state directory — the same identity, so its
 * spooled result is reported and a unit whose lease it let run out can come
 * back to it — after a back-off that doubles from `baseMs` up to `capMs`
 * and starts over once a process stayed up for `stableMs` (the shape of
 * systemd's Restart=on-failure with RestartSec and a start-rate limit).
 * Without it, one of `swarm up`'s two providers dying left the other unable
 * to form a quorum of two until the round deadline.
 */
import type { ChildProcess } from 'node:child_process';

export interface SupervisorOptions {
  /** starts process i (the same i, so the same state directory, on every restart) */
  spawn: (i: number) => ChildProcess;
  /** told of every restart: which process, how it ended, and the wait before the new one */
  onRestart?: (i: number, how: string, delayMs: number) => void;
  baseMs?: number;
  capMs?: number;
  stableMs?: number;
  /** monotonic ms (tests may inject) */
  now?: () => number;
}

interface Slot {
  child: ChildProcess | null;
  startedAt: number;
  attempt: number;
  timer: ReturnType<typeof setTimeout> | null;
}

export class Supervisor {
  private readonly slots: Slot[] = [];
  private stopping = false;
  /** processes started again after they ended */
  restarts = 0;
  private readonly now: () => number;

  constructor(private readonly o: SupervisorOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  /** Starts n processes. */
  start(n: number): void {
    for (let i = 0; i < n; i++) {
      this.slots.push({ child: null, startedAt: 0, attempt: 0, timer: null });
      this.launch(i);
    }
  }

  /** The live processes (for a test, or a last kill). */
  children(): ChildProcess[] {
    return this.slots.flatMap((s) => (s.child === null ? [] : [s.child]));
  }

  private launch(i: number): void {
    const slot = this.slots[i]!;
    slot.timer = null;
    if (this.stopping) return;
    const child = this.o.spawn(i);
    slot.child = child;
    slot.startedAt = this.now();
    child.once('exit', (code, signal) => {
      if (slot.child === child) slot.child = null;
      if (this.stopping) return;
      if (this.now() - slot.startedAt >= (this.o.stableMs ?? 60_000)) slot.attempt = 0;
      const delay = Math.min(this.o.capMs ?? 30_000, (this.o.baseMs ?? 1_000) * 2 ** slot.attempt);
      slot.attempt = Math.min(slot.attempt + 1, 20);
      this.restarts++;
      this.o.onRestart?.(i, signal !== null ? `killed by ${signal}` : `exited with code ${String(code)}`, delay);
      slot.timer = setTimeout(() => this.launch(i), delay);
    });
  }

  /** Stops supervising and sends `signal` to every live process. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.stopping = true;
    for (const s of this.slots) {
      if (s.timer !== null) clearTimeout(s.timer);
      s.timer = null;
      s.child?.kill(signal);
    }
  }
}
