/**
 * The provider's pull loop (issue 5): ask for work, fetch and cache the
 * input blobs, run the unit in the sandbox while heartbeating its lease,
 * spool the result, repeat, obeying the owner's policy. Talking to the
 * tracker is one signed scheduler request per turn (POST /api/scheduler,
 * issue 16, BOINC's scheduler RPC): it reports the spooled results (small
 * ones inline) and asks for the next units (wantNow says how many).
 *
 * - The unit's spec is parsed once, when it arrives (train/work/kinds.ts
 *   parseUnitSpec); the typed spec goes on to the patch rebuild, the sandbox
 *   and finalizeOutput. A spec this provider cannot run is given back.
 * - Inputs come from the cache, else (a params blob with a patch) are
 *   rebuilt from the cached base and an int8 update, else are downloaded.
 *   Blobs the tracker asks for (kept AdamW states) are uploaded first.
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
 * - Spool (issue 24, spool.ts): a finished result is spooled before it is
 *   uploaded and removed only when the tracker acknowledges it; spooled
 *   results are reported before every work request, so one left by a
 *   tracker outage or a restart of this provider is reported at the next
 *   contact (BOINC's client keeps results until the scheduler acknowledges
 *   them). A spooled result the tracker refuses for good (a unit it no
 *   longer knows, a replica that is not this provider's) is dropped with a
 *   log line; network trouble keeps it for the next try.
 * - Hours (policy.ts): outside the owner's hours of the local day (read
 *   from the injected Clock) no unit is taken; the loop sleeps until the
 *   window opens, still reporting spooled results.
 * - pause() / resume() and setPolicy() (the local page, src/cli/provider-
 *   ui.ts): paused, wantNow() is 0 and nothing is leased — units leased and
 *   not started are given back, the unit in hand may finish and its result
 *   is reported as usual; resume() takes units again. setPolicy() changes
 *   threads (from the next unit), max CPU, idle-only and hours at once,
 *   waking a loop that waits so the change counts now.
 * - stop(): the first call finishes the unit in hand and then exits; a
 *   second (or stop({now:true})) cancels it and gives it back to the tracker
 *   (POST /api/failures), which issues it to someone else at once.
 */
import type { Clock } from '../core/clock.ts';
import { SwarmError, isSwarmError } from '../core/errors.ts';
import type { Prng } from '../core/prng.ts';
import { sleep } from '../core/sleep.ts';
import { checkPolicy, msUntilHours } from './policy.ts';
import type { ProviderPolicy } from './policy.ts';
import { MemoryResultSpool } from './spool.ts';
import type { ResultSpool, SpooledResult } from './spool.ts';
import { startingStatus } from './status.ts';
import type { ProviderStatusLine } from './status.ts';
import { MAX_BATCH_RESULTS, MAX_BATCH_UNITS } from '../protocol/schemas.ts';
import type { BatchedResult, FailureReport, ParamsPatch, UnitKind, WorkAssignment } from '../protocol/schemas.ts';
import type { BlobCache } from './blob-cache.ts';
import type { TrackerClient } from './client.ts';
import { isTransient } from './client.ts';
import { finalizeOutput } from '../train/work/finalize.ts';
import { parseUnitSpec } from '../train/work/kinds.ts';
import type { UnitSpec } from '../train/work/kinds.ts';
import { applyParamsUpdate } from '../train/work/update-blob.ts';

/** Ask for several units at once only when they take less than this each (see wantNow). */
const BATCH_TARGET_MS = 2_000;
/** When the tracker gives no hint (it always does when it has fewer units than asked for). */
const NO_WORK_RETRY_MS = 2_000;
/**
 * Longest sleep while paused or outside the hours, and how often the loop
 * then makes one scheduler request (leasing nothing) to report what is
 * spooled and hand over blobs the tracker wants from it.
 */
const HELD_CONTACT_MS = 10_000;

/** What runs a unit: the worker or bubblewrap sandbox (src/provider/sandbox). */
export interface UnitRunner {
  /**
   * Throws a coded error when this runner will not run `spec` at all (the
   * browser's memory budget, PROVIDER_OVER_BUDGET): checked before any input
   * is fetched, and the unit is given back at once.
   */
  admit?(spec: UnitSpec): void;
  run(
    spec: UnitSpec,
    blobs: Map<string, Uint8Array>,
    options: { threads: number; deadlineMs: number; signal?: AbortSignal; onProgress?: (fraction: number) => void },
  ): Promise<{ result: Uint8Array; resultHash: string; metrics: Record<string, number> }>;
}

export type { ProviderState, ProviderStatusLine } from './status.ts';

export interface ProviderLoopOptions {
  client: TrackerClient;
  runner: UnitRunner;
  cache: BlobCache;
  /** finished results until the tracker acknowledges them (default: in memory) */
  spool?: ResultSpool;
  /** one line for the owner: a dropped spooled result, ... */
  onLog?: (line: string) => void;
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
  /** the probe for idle-only: whether the machine is otherwise idle */
  isIdle?: () => Promise<boolean>;
  /** work only while isIdle says so (default: whenever isIdle is given); setPolicy turns it on and off */
  idleOnly?: boolean;
  /** work only during these hours of the local day (policy.ts; default: any time) */
  hours?: ProviderPolicy['hours'];
  /** start paused (resume() starts taking units) */
  paused?: boolean;
  /** stop after this many units (tests, --units) */
  maxUnits?: number;
  /** most units one scheduler request may lease when units are quick (--batch; default 1, see wantNow) */
  maxBatch?: number;
  /** back-off base and cap (ms) */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  onStatus?: (s: ProviderStatusLine) => void;
  /**
   * Called once registration succeeded, before any work is asked for (retried
   * like the registration when the tracker is unreachable): `swarm provide
   * --accept-cla` signs the tracker's contributor licence here (cla.ts).
   */
  afterRegister?: () => Promise<void>;
  /** transforms a result before upload: ONLY for tests that play a cheating provider */
  tamper?: (result: Uint8Array, unit: WorkAssignment) => Uint8Array;
}

export class ProviderLoop {
  private readonly o: ProviderLoopOptions;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly spool: ResultSpool;
  /** the lease of the last unit taken (ms): bounds the back-off */
  private leaseHintMs: number | null = null;
  private stopping = false;
  /** the tracker's refusal of this identity (TRACKER_BANNED, TRACKER_CLA_REQUIRED: stopsLoop), once seen: the loop ends and run() throws it */
  private refused: SwarmError | null = null;
  /** units leased by the last exchange and not run yet */
  private readonly queue: WorkAssignment[] = [];
  /** failures to report at the next exchange */
  private readonly givenBack: FailureReport[] = [];
  /** results in the spool, not yet acknowledged */
  private pendingResults = 0;
  /** compute time per unit here (ms, exponential moving average) */
  private unitMs: number | null = null;
  /** when the last scheduler request was made (clock ms) */
  private lastContactMs = -Infinity;
  /** the tracker's hint when it had fewer units than asked for */
  private retryAfterMs = NO_WORK_RETRY_MS;
  private readonly stopNow = new AbortController();
  /** aborted by stop() for good; by pause/resume/setPolicy once, then replaced */
  private wake = new AbortController();
  private pol: ProviderPolicy;
  private pausedFlag: boolean;
  /** params blobs rebuilt from an int8 update instead of downloaded (issue 7's downlink) */
  patched = 0;
  readonly status: ProviderStatusLine = startingStatus();

  constructor(o: ProviderLoopOptions) {
    if (o.maxCpu !== undefined && (!Number.isFinite(o.maxCpu) || o.maxCpu <= 0 || o.maxCpu > 100)) {
      throw new SwarmError('PROVIDER_BAD_POLICY', '--max-cpu must be a percentage in (0, 100]');
    }
    const idleOnly = o.idleOnly ?? o.isIdle !== undefined;
    if (idleOnly && o.isIdle === undefined) throw new SwarmError('PROVIDER_BAD_POLICY', 'idle-only needs an idle probe (isIdle)');
    this.pol = checkPolicy({ threads: o.threads, maxCpu: o.maxCpu ?? 100, idleOnly, hours: o.hours ?? null });
    this.pausedFlag = o.paused === true;
    this.o = o;
    this.sleep = o.sleep ?? sleep;
    this.spool = o.spool ?? new MemoryResultSpool();
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

  /** Wakes a waiting loop once (a later wait sleeps again); after stop() the wake stays aborted. */
  private poke(): void {
    if (this.stopping) return;
    const w = this.wake;
    this.wake = new AbortController();
    w.abort();
  }

  /** Take no new units (leased ones not started are given back); the unit in hand may finish. */
  pause(): void {
    if (this.pausedFlag) return;
    this.pausedFlag = true;
    this.poke();
  }

  /** Take units again. */
  resume(): void {
    if (!this.pausedFlag) return;
    this.pausedFlag = false;
    this.poke();
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  /** The policy in force (a copy). */
  get policy(): ProviderPolicy {
    return { ...this.pol, hours: this.pol.hours === null ? null : { ...this.pol.hours } };
  }

  /**
   * Changes the policy now: the fields given replace the current ones
   * (PROVIDER_BAD_POLICY, and nothing changes, when any is bad). Threads
   * apply from the next unit; max CPU, idle-only and hours at once (a loop
   * resting or waiting wakes and looks again). Returns the policy in force.
   */
  setPolicy(patch: Partial<ProviderPolicy>): ProviderPolicy {
    const next = checkPolicy({ ...this.pol, ...patch });
    if (next.idleOnly && this.o.isIdle === undefined) throw new SwarmError('PROVIDER_BAD_POLICY', 'idle-only needs an idle probe, and this provider has none');
    this.pol = next;
    this.poke();
    return this.policy;
  }

  /** Why no unit may be taken now: paused, outside the hours, or null (work). */
  private hold(): { state: 'paused' | 'outside-hours'; ms: number } | null {
    if (this.pausedFlag) return { state: 'paused', ms: HELD_CONTACT_MS };
    const until = msUntilHours(this.pol.hours, this.o.clock.now());
    return until > 0 ? { state: 'outside-hours', ms: Math.min(until, HELD_CONTACT_MS) } : null;
  }

  /** maxUnits results done or spooled. */
  private limitReached(): boolean {
    return this.o.maxUnits !== undefined && this.status.completed + this.pendingResults >= this.o.maxUnits;
  }

  private backoff(attempt: number): number {
    const base = this.o.backoffBaseMs ?? 500;
    // Never wait longer than a third of the tracker's lease (the heartbeat
    // period): a restarted tracker then hears from every provider, and gets
    // every spooled result, within a lease (issue 24).
    const cap = Math.min(this.o.backoffCapMs ?? 30_000, this.leaseHintMs === null ? Infinity : Math.max(base, this.leaseHintMs / 3));
    return this.o.rng.nextFloat() * Math.min(cap, base * 2 ** Math.min(attempt, 20));
  }

  /** Registers, then works until stopped (or maxUnits done). */
  async run(): Promise<ProviderStatusLine> {
    let attempt = 0;
    for (;;) {
      if (this.stopping) break;
      try {
        await this.o.client.register(this.o.name, { threads: this.o.threads, memoryBytes: this.o.memoryBytes }, this.o.team);
        await this.o.afterRegister?.();
        break;
      } catch (e) {
        if (!isTransient(e)) throw e;
        this.set({ state: 'backing-off', message: (e as Error).message });
        await this.sleep(this.backoff(attempt++), this.wake.signal);
      }
    }
    attempt = 0;
    this.pendingResults = (await this.spool.list()).length;
    for (;;) {
      try {
        if (this.queue.length === 0) {
          const want = this.wantNow();
          const hold = this.stopping || this.limitReached() ? null : this.hold();
          if (want === 0 && hold !== null) {
            // Paused or outside the hours: report what is spooled or given
            // back (never held back), and keep in touch every HELD_CONTACT_MS
            // so that blobs only this provider holds (a slot's kept AdamW
            // state) reach whoever runs that slot now — a paused provider
            // computes nothing, but must not stall a round. Then wait until
            // woken or the hours open.
            const now = this.o.clock.now();
            if (this.givenBack.length > 0 || (await this.spool.list()).length > 0 || now - this.lastContactMs >= HELD_CONTACT_MS) {
              await this.exchange(0);
              attempt = 0;
            }
            this.set({ state: hold.state, unitId: null, kind: null, progress: 0 });
            await this.sleep(hold.ms, this.wake.signal);
            continue;
          }
          if (want === 0) {
            // Stopping, or maxUnits reached: report what is spooled and give
            // back what is queued, then end (best effort when stopping: the
            // spool keeps what the tracker did not acknowledge).
            if (this.givenBack.length === 0 && (await this.spool.list()).length === 0) break;
            const idle = await this.exchange(0).then(() => true, (e: unknown) => {
              if (this.stopping) return true;
              throw e;
            });
            if (idle && (this.stopping || (await this.spool.list()).length === 0)) break;
            continue;
          }
          if (this.pol.idleOnly && this.o.isIdle !== undefined && !(await this.o.isIdle())) {
            this.set({ state: 'waiting-for-idle' });
            await this.sleep(5_000, this.wake.signal);
            continue;
          }
          const units = await this.exchange(want);
          attempt = 0;
          if (units.length === 0) {
            this.set({ state: 'idle', unitId: null, kind: null, progress: 0 });
            const jitter = 0.75 + 0.5 * this.o.rng.nextFloat();
            await this.sleep(Math.round(this.retryAfterMs * jitter), this.wake.signal);
            continue;
          }
          this.queue.push(...units);
        }
        if (this.stopping) {
          this.giveBack(this.queue.splice(0), 'PROVIDER_STOPPED', 'the provider is stopping');
          continue;
        }
        const held = this.hold();
        if (held !== null) {
          // leased before the pause (or the hours closed): someone else may run them now
          this.giveBack(this.queue.splice(0), held.state === 'paused' ? 'PROVIDER_PAUSED' : 'PROVIDER_OUTSIDE_HOURS', `the provider is ${held.state === 'paused' ? 'paused' : 'outside its hours'}`);
          continue;
        }
        const took = await this.runUnit(this.queue.shift()!);
        const maxCpu = this.pol.maxCpu;
        if (maxCpu < 100 && took > 0 && !this.stopping) {
          this.set({ state: 'resting' });
          await this.sleep(took * (100 / maxCpu - 1), this.wake.signal);
        }
      } catch (e) {
        // Banned by the council, or no signature of the tracker's CLA (issue 20): nothing more will
        // be accepted from this identity until a person acts; stop and say why.
        if (stopsLoop(e)) this.refused = this.refusal(e);
        if (this.refused !== null) break;
        if (!isTransient(e)) {
          this.set({ failed: this.status.failed + 1, message: isSwarmError(e) ? `${e.code}: ${e.message}` : String(e) });
        }
        this.set({ state: 'backing-off', message: isSwarmError(e) ? `${e.code}: ${e.message}` : String(e) });
        await this.sleep(this.backoff(attempt++), this.wake.signal);
      }
    }
    if (this.refused !== null) {
      this.set({ state: 'stopped', unitId: null, kind: null, message: `${this.refused.code}: ${this.refused.message}` });
      throw this.refused;
    }
    this.set({ state: 'stopped', unitId: null, kind: null });
    return { ...this.status };
  }

  /**
   * How many units to ask for (issue 16: as many as keep this provider busy
   * until its next request, BOINC's work buffer): one, unless the owner
   * allows a batch (maxBatch, --batch N) and units here take less than
   * BATCH_TARGET_MS, then enough to fill it, up to maxBatch. One by default:
   * the slots of a DiLoCo round are leased at once, and a provider holding
   * two of them would make the round wait for its second while another
   * provider idles (seen in test/e2e/crash-restart.test.ts with quick nano
   * units). Zero when stopping, paused, outside the hours, or when maxUnits
   * results are done or spooled.
   */
  private wantNow(): number {
    if (this.stopping || this.hold() !== null) return 0;
    let want = this.unitMs === null || this.unitMs >= BATCH_TARGET_MS ? 1 : Math.floor(BATCH_TARGET_MS / Math.max(1, this.unitMs));
    want = Math.min(want, this.o.maxBatch ?? 1, MAX_BATCH_UNITS);
    if (this.o.maxUnits !== undefined) want = Math.min(want, this.o.maxUnits - this.status.completed - this.pendingResults);
    return Math.max(0, want);
  }

  /** Units given back at the next exchange (stopping with leased units not started). */
  private giveBack(units: readonly WorkAssignment[], code: string, message: string): void {
    for (const u of units) this.givenBack.push({ unitId: u.unitId, code, message });
  }

  /**
   * One scheduler request (POST /api/scheduler): every spooled result (small
   * ones inline, big ones uploaded first), the units given back, and a
   * request for `want` units. Each acknowledged result leaves the spool;
   * each refused one is dropped with a log line (the tracker refused it for
   * good: a unit it no longer knows, a replica that is not this
   * provider's); network trouble throws and keeps everything for the next
   * try. Returns the units leased.
   */
  private async exchange(want: number): Promise<WorkAssignment[]> {
    const c = this.o.client;
    this.lastContactMs = this.o.clock.now();
    const spooled = (await this.spool.list()).slice(0, MAX_BATCH_RESULTS);
    const results: BatchedResult[] = [];
    for (const r of spooled) {
      try {
        results.push(await c.prepareResult({ unitId: r.unitId, runId: r.runId, result: r.result, metrics: r.metrics }));
      } catch (e) {
        if (isTransient(e)) throw e;
        await this.drop(r.unitId, e);
      }
    }
    if (results.length > 0) this.set({ state: 'uploading', unitId: results.length === 1 ? results[0]!.unitId : this.status.unitId });
    const failures = this.givenBack.slice(0, MAX_BATCH_RESULTS);
    const res = await c.schedule({ results, failures, want, ...(this.o.kinds === undefined ? {} : { kinds: this.o.kinds }) });
    this.givenBack.splice(0, failures.length);
    let acknowledged = 0;
    for (const o of res.results) {
      if (o.ok) {
        await this.spool.remove(o.unitId);
        acknowledged++;
      } else {
        await this.drop(o.unitId, new SwarmError(o.error.code, o.error.message));
      }
    }
    this.pendingResults = (await this.spool.list()).length;
    if (acknowledged > 0) await this.acknowledged(acknowledged);
    this.retryAfterMs = res.retryAfterMs ?? NO_WORK_RETRY_MS;
    await this.uploadWanted(res.wanted ?? []);
    return res.units;
  }

  /** A spooled result the tracker refused for good: logged and forgotten. */
  private async drop(unitId: string, e: unknown): Promise<void> {
    const why = isSwarmError(e) ? `${e.code}: ${e.message}` : String(e);
    this.log(`dropped the spooled result of unit ${unitId}: the tracker refused it (${why})`);
    await this.spool.remove(unitId);
    this.set({ dropped: this.status.dropped + 1 });
  }

  /** `n` results acknowledged: counted, and the status line's credit refreshed (best effort). */
  private async acknowledged(n: number): Promise<void> {
    let credit: number | null = this.status.credit;
    let rep: number | null = this.status.reputation;
    try {
      const s = await this.o.client.providerStatus();
      credit = s.credit;
      rep = s.reputation;
    } catch {
      // the status line is best effort
    }
    this.set({ completed: this.status.completed + n, credit, reputation: rep });
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
  private async rebuildFromPatch(spec: UnitSpec, p: ParamsPatch): Promise<Uint8Array | null> {
    const base = await this.o.cache.get(p.base);
    if (base === null) return null;
    try {
      const rebuilt = applyParamsUpdate(spec.config, base, await this.o.client.getBlob(p.update));
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
    // The spec is parsed once, here where it arrives; everything below takes
    // the typed value. A spec this provider cannot run (or will not: the
    // runner's admit) is given back at once, before any input is fetched.
    let spec: UnitSpec;
    try {
      spec = parseUnitSpec(unit.spec);
      this.o.runner.admit?.(spec);
    } catch (e) {
      await this.reportFailure(unit, e);
      throw e;
    }
    const blobs = new Map<string, Uint8Array>();
    try {
      for (const sha of unit.inputs) {
        let bytes = await this.o.cache.get(sha);
        if (bytes === null) {
          if (unit.patch?.target === sha) bytes = await this.rebuildFromPatch(spec, unit.patch);
          bytes ??= await c.getBlob(sha);
          await this.o.cache.put(sha, bytes);
        }
        blobs.set(sha, bytes);
      }
    } catch (e) {
      // An input that cannot be had for good (PROVIDER_BAD_BLOB: it does not hash to its
      // address; BLOB_NOT_FOUND) is reported, so the tracker reissues the unit now instead
      // of at the lease's end; network trouble is not (the back-off retries the tracker).
      if (!isTransient(e)) await this.reportFailure(unit, e);
      throw e;
    }
    const leaseMs = Math.max(1_000, unit.leaseDeadlineMs - this.o.clock.now());
    this.leaseHintMs = leaseMs;
    // Heartbeat at a third of the lease so two lost beats still leave time.
    const beat = setInterval(() => {
      c.heartbeat(unit.unitId, this.status.progress).catch((e: unknown) => {
        // a ban stops the unit in hand at once (its result would be refused)
        if (isSwarmError(e, 'TRACKER_BANNED')) {
          this.refused = this.refusal(e);
          this.stop({ now: true });
        }
      });
    }, Math.max(250, Math.floor(leaseMs / 3)));
    const started = this.o.clock.now();
    this.set({ state: 'running' });
    let out: Awaited<ReturnType<UnitRunner['run']>>;
    try {
      out = await this.o.runner.run(spec, blobs, {
        threads: this.pol.threads,
        // The sandbox deadline is generous: the lease is extended by heartbeats.
        deadlineMs: Math.max(leaseMs * 10, 600_000),
        signal: this.stopNow.signal,
        onProgress: (f) => this.set({ progress: f }),
      });
    } catch (e) {
      clearInterval(beat);
      await this.reportFailure(unit, e);
      if (this.stopNow.signal.aborted) return 0;
      throw e;
    }
    clearInterval(beat);
    const took = this.o.clock.now() - started;
    this.set({ state: 'uploading', progress: 1 });
    const fin = finalizeOutput(spec, out.result);
    for (const k of fin.keep) await this.o.cache.put(k.sha256, k.bytes);
    const result = this.o.tamper ? this.o.tamper(fin.upload, unit) : fin.upload;
    const spooled: SpooledResult = { unitId: unit.unitId, runId: unit.runId, result, metrics: out.metrics, spooledAt: this.o.clock.now() };
    await this.spool.put(spooled);
    this.pendingResults++;
    // the next exchange (at once, when no leased unit is queued) reports it
    const alpha = 0.3;
    this.unitMs = this.unitMs === null ? took : (1 - alpha) * this.unitMs + alpha * took;
    this.set({ computed: this.status.computed + 1, unitId: null, kind: null });
    return took;
  }

  /** Tells the tracker this unit failed here, with the error's code (best effort: the lease's end covers a lost report). */
  private async reportFailure(unit: WorkAssignment, e: unknown): Promise<void> {
    await this.o.client.fail(unit.unitId, isSwarmError(e) ? e.code : 'PROVIDER_ERROR', e instanceof Error ? e.message : String(e)).catch(() => undefined);
  }

  private log(line: string): void {
    this.o.onLog?.(line);
  }

  /** The refusal run() ends with: a missing CLA signature also says where to read the text and how to accept it. */
  private refusal(e: SwarmError): SwarmError {
    if (e.code !== 'TRACKER_CLA_REQUIRED') return e;
    const version = typeof e.details?.version === 'string' ? ` ${e.details.version}` : '';
    return new SwarmError(e.code, `${e.message}. Read the CLA${version} at ${this.o.client.baseUrl}/api/cla (or \`swarm cla show --tracker ${this.o.client.baseUrl}\`), then run swarm provide again with --accept-cla`, e.details);
  }
}

/** Refusals of this identity that no retry can change: a council ban, or no signature of the tracker's current CLA. */
function stopsLoop(e: unknown): e is SwarmError {
  return isSwarmError(e, 'TRACKER_BANNED') || isSwarmError(e, 'TRACKER_CLA_REQUIRED');
}
