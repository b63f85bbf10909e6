/**
 * The provider's pull loop (issue 5): ask for work, fetch and cache the
 * input blobs, run the unit in the sandbox while heartbeating its lease,
 * upload the result, repeat, obeying the owner's policy.
 *
 * - Back-off: after a failure the wait is drawn uniformly from
 *   [0, min(cap, base · 2^attempt)] ("full jitter", M. Brooker, "Exponential
 *   Backoff And Jitter", AWS Architecture Blog, 2015), so a tracker restart
 *   is not met by every provider at the same instant. When the tracker says
 *   there is no work, the wait is its retryAfterMs ± 25 % jitter. The jitter
 *   comes from a seeded Prng, so a test replays the same schedule.
 * - --max-cpu P: after a unit that took t ms of compute, rest t·(100/P − 1)
 *   ms (a duty cycle, as BOINC's "use at most P % of CPU time" does by
 *   suspending and resuming).
 * - --idle-only: before taking a unit, wait while the rest of the machine is
 *   busy (an injected probe; the CLI measures other processes' CPU use).
 * - stop(): the first call finishes the unit in hand and then exits; a
 *   second (or stop({now:true})) cancels it and gives it back to the tracker
 *   (POST /api/failures), which issues it to someone else at once.
 */
import type { Clock } from '../core/clock.ts';
import { SwarmError, isSwarmError } from '../core/errors.ts';
import type { Prng } from '../core/prng.ts';
import type { ParamsPatch, UnitKind, WorkAssignment } from '../protocol/schemas.ts';
import type { BlobCache } from './blob-cache.ts';
import type { TrackerClient } from './client.ts';
import { isTransient } from './client.ts';
import { finalizeOutput } from '../train/work/finalize.ts';
import { applyParamsUpdate } from '../train/work/update-blob.ts';
import type { ModelConfig } from '../model/config.ts';

/** What runs a unit: the worker or bubblewrap sandbox (src/provider/sandbox). */
export interface UnitRunner {
  run(
    spec: Record<string, unknown>,
    blobs: Map<string, Uint8Array>,
    options: { threads: number; deadlineMs: number; signal?: AbortSignal; onProgress?: (fraction: number) => void },
  ): Promise<{ result: Uint8Array; resultHash: string; metrics: Record<string, number> }>;
}

export type ProviderState = 'starting' | 'idle' | 'waiting-for-idle' | 'fetching' | 'running' | 'uploading' | 'resting' | 'backing-off' | 'stopped';

export interface ProviderStatusLine {
  state: ProviderState;
  unitId: string | null;
  kind: UnitKind | null;
  progress: number;
  completed: number;
  failed: number;
  credit: number | null;
  reputation: number | null;
  message?: string;
}

export interface ProviderLoopOptions {
  client: TrackerClient;
  runner: UnitRunner;
  cache: BlobCache;
  clock: Clock;
  /** seeded jitter */
  rng: Prng;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  name: string;
  team?: string;
  threads: number;
  memoryBytes: number;
  kinds?: readonly UnitKind[];
  /** 1..100 (default 100) */
  maxCpu?: number;
  /** when set, work only while this says the machine is otherwise idle */
  isIdle?: () => Promise<boolean>;
  /** stop after this many units (tests, --units) */
  maxUnits?: number;
  /** back-off base and cap (ms) */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  onStatus?: (s: ProviderStatusLine) => void;
  /** transforms a result before upload: ONLY for tests that play a cheating provider */
  tamper?: (result: Uint8Array, unit: WorkAssignment) => Uint8Array;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class ProviderLoop {
  private readonly o: ProviderLoopOptions;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private stopping = false;
  private readonly stopNow = new AbortController();
  private readonly wake = new AbortController();
  /** params blobs rebuilt from an int8 update instead of downloaded (issue 7's downlink) */
  patched = 0;
  readonly status: ProviderStatusLine = { state: 'starting', unitId: null, kind: null, progress: 0, completed: 0, failed: 0, credit: null, reputation: null };

  constructor(o: ProviderLoopOptions) {
    if (o.maxCpu !== undefined && (!Number.isFinite(o.maxCpu) || o.maxCpu <= 0 || o.maxCpu > 100)) {
      throw new SwarmError('PROVIDER_BAD_POLICY', '--max-cpu must be a percentage in (0, 100]');
    }
    this.o = o;
    this.sleep = o.sleep ?? defaultSleep;
  }

  private set(p: Partial<ProviderStatusLine>): void {
    Object.assign(this.status, p);
    this.o.onStatus?.({ ...this.status });
  }

  /** First call: finish the current unit, then stop. `now`: cancel it and give it back. */
  stop(o: { now?: boolean } = {}): void {
    if (this.stopping || o.now === true) this.stopNow.abort();
    this.stopping = true;
    this.wake.abort();
  }

  private backoff(attempt: number): number {
    const base = this.o.backoffBaseMs ?? 500;
    const cap = this.o.backoffCapMs ?? 30_000;
    return this.o.rng.nextFloat() * Math.min(cap, base * 2 ** Math.min(attempt, 20));
  }

  /** Registers, then works until stopped (or maxUnits done). */
  async run(): Promise<ProviderStatusLine> {
    let attempt = 0;
    for (;;) {
      if (this.stopping) break;
      try {
        await this.o.client.register(this.o.name, { threads: this.o.threads, memoryBytes: this.o.memoryBytes }, this.o.team);
        break;
      } catch (e) {
        if (!isTransient(e)) throw e;
        this.set({ state: 'backing-off', message: (e as Error).message });
        await this.sleep(this.backoff(attempt++), this.wake.signal);
      }
    }
    attempt = 0;
    while (!this.stopping && (this.o.maxUnits === undefined || this.status.completed < this.o.maxUnits)) {
      try {
        if (this.o.isIdle !== undefined && !(await this.o.isIdle())) {
          this.set({ state: 'waiting-for-idle' });
          await this.sleep(5_000, this.wake.signal);
          continue;
        }
        const w = await this.o.client.work(this.o.kinds);
        attempt = 0;
        await this.uploadWanted(w.wanted ?? []);
        if (w.unit === null) {
          this.set({ state: 'idle', unitId: null, kind: null, progress: 0 });
          const jitter = 0.75 + 0.5 * this.o.rng.nextFloat();
          await this.sleep(Math.round(w.retryAfterMs * jitter), this.wake.signal);
          continue;
        }
        const took = await this.runUnit(w.unit);
        const maxCpu = this.o.maxCpu ?? 100;
        if (maxCpu < 100 && took > 0 && !this.stopping) {
          this.set({ state: 'resting' });
          await this.sleep(took * (100 / maxCpu - 1), this.wake.signal);
        }
      } catch (e) {
        if (!isTransient(e)) {
          this.set({ failed: this.status.failed + 1, message: isSwarmError(e) ? `${e.code}: ${e.message}` : String(e) });
        }
        this.set({ state: 'backing-off', message: isSwarmError(e) ? `${e.code}: ${e.message}` : String(e) });
        await this.sleep(this.backoff(attempt++), this.wake.signal);
      }
    }
    this.set({ state: 'stopped', unitId: null, kind: null });
    return { ...this.status };
  }

  /**
   * Blobs the tracker asks this provider for: kept AdamW states that another
   * provider now needs (a holder left, or a unit needs one more replica).
   * Best effort: a blob this provider no longer has is skipped.
   */
  private async uploadWanted(wanted: readonly string[]): Promise<void> {
    for (const sha of wanted) {
      const bytes = await this.o.cache.get(sha);
      if (bytes !== null) await this.o.client.putBlob(bytes).catch(() => undefined);
    }
  }

  /**
   * The int8 downlink (issue 7, src/train/work/update-blob.ts): the unit's
   * params blob is not cached; when the one it was made from is, fetch the
   * update (a quarter of the size) and rebuild the params, kept only if they
   * hash to the target. Anything wrong — no base, a bad update, a mismatch —
   * returns null and the target is downloaded whole.
   */
  private async rebuildFromPatch(unit: WorkAssignment, p: ParamsPatch): Promise<Uint8Array | null> {
    const config = (unit.spec as { config?: ModelConfig }).config;
    if (config === undefined) return null;
    const base = await this.o.cache.get(p.base);
    if (base === null) return null;
    try {
      const rebuilt = applyParamsUpdate(config, base, await this.o.client.getBlob(p.update));
      this.patched++;
      return rebuilt.bytes;
    } catch (e) {
      if (isTransient(e)) throw e;
      return null; // a corrupt or hostile update
    }
  }

  /** Runs one leased unit; returns the compute time in ms. */
  private async runUnit(unit: WorkAssignment): Promise<number> {
    const c = this.o.client;
    this.set({ state: 'fetching', unitId: unit.unitId, kind: unit.kind, progress: 0, message: undefined });
    const blobs = new Map<string, Uint8Array>();
    for (const sha of unit.inputs) {
      let bytes = await this.o.cache.get(sha);
      if (bytes === null) {
        if (unit.patch?.target === sha) bytes = await this.rebuildFromPatch(unit, unit.patch);
        bytes ??= await c.getBlob(sha);
        await this.o.cache.put(sha, bytes);
      }
      blobs.set(sha, bytes);
    }
    const leaseMs = Math.max(1_000, unit.leaseDeadlineMs - this.o.clock.now());
    // Heartbeat at a third of the lease so two lost beats still leave time.
    const beat = setInterval(() => {
      c.heartbeat(unit.unitId, this.status.progress).catch(() => undefined);
    }, Math.max(250, Math.floor(leaseMs / 3)));
    const started = this.o.clock.now();
    this.set({ state: 'running' });
    let out: Awaited<ReturnType<UnitRunner['run']>>;
    try {
      out = await this.o.runner.run(unit.spec, blobs, {
        threads: this.o.threads,
        // The sandbox deadline is generous: the lease is extended by heartbeats.
        deadlineMs: Math.max(leaseMs * 10, 600_000),
        signal: this.stopNow.signal,
        onProgress: (f) => this.set({ progress: f }),
      });
    } catch (e) {
      clearInterval(beat);
      const code = isSwarmError(e) ? e.code : 'PROVIDER_ERROR';
      await c.fail(unit.unitId, code, e instanceof Error ? e.message : String(e)).catch(() => undefined);
      if (this.stopNow.signal.aborted) return 0;
      throw e;
    }
    clearInterval(beat);
    const took = this.o.clock.now() - started;
    this.set({ state: 'uploading', progress: 1 });
    const fin = finalizeOutput(unit.spec, out.result);
    for (const k of fin.keep) await this.o.cache.put(k.sha256, k.bytes);
    const result = this.o.tamper ? this.o.tamper(fin.upload, unit) : fin.upload;
    await c.submit({ unitId: unit.unitId, runId: unit.runId, result, metrics: out.metrics });
    let credit: number | null = this.status.credit;
    let rep: number | null = this.status.reputation;
    try {
      const s = await c.providerStatus();
      credit = s.credit;
      rep = s.reputation;
    } catch {
      // the status line is best effort
    }
    this.set({ completed: this.status.completed + 1, credit, reputation: rep, unitId: null, kind: null });
    return took;
  }
}
