/**
 * The tracker's work service (issues 5, 6 and 16): one object that the HTTP
 * app, the run manager and the CLI hold, composed of the parts BOINC's
 * server splits into daemons — each in its own file, each taking the shared
 * TrackerContext (context.ts):
 *   scheduler.ts    leases and results (the hot request)
 *   judge.ts        verdicts, credit and records, inside a result's transaction
 *   standings.ts    credit as people read it: provider status, leaderboard, teams
 *   registry.ts     provider registration, the known-key check
 *   unit-queue.ts   creating, cancelling and reading units
 *   sweeper.ts      expired leases
 *   blob-uploads.ts content-addressed uploads
 *   council.ts      the Steering Council: proposals, votes, decisions and their effects
 *   cla.ts          the contributor licence: its current version and who signed it
 * This class only delegates; it holds no logic of its own, but for one
 * ordering rule: a provider's waiting registration is logged before its
 * first work request is served (registry.ts recordRegistration, issue 25).
 */
import type { Clock } from '../core/clock.ts';
import type { EntryBodies, EntryKind, LedgerEntry } from '../ledger/entry.ts';
import type { Ed25519KeyPair } from '../ledger/keys.ts';
import type { CreateUnitsRequest, FailureReport, ParamsPatch, RegisterProviderRequest, ResultSubmission, SchedulerRequest, SchedulerResponse, UnitKind, WorkAssignment } from '../protocol/schemas.ts';
import { storeUpload } from './blob-uploads.ts';
import type { StoredUpload } from './blob-uploads.ts';
import { TrackerContext } from './context.ts';
import { Council } from './council.ts';
import { Cla } from './cla.ts';
import type { TrackerServiceOptions } from './context.ts';
import { ProviderRegistry } from './registry.ts';
import { Scheduler } from './scheduler.ts';
import { Standings } from './standings.ts';
import type { ProviderStatus, TeamStanding } from './standings.ts';
import type { Db, Queryable } from './storage/db.ts';
import { sweepExpiredLeases } from './sweeper.ts';
import { UnitQueue } from './unit-queue.ts';
import type { UnitStatusView } from './unit-queue.ts';

export { DEFAULT_LEASE_MS } from './context.ts';
export type { TrackerServiceOptions } from './context.ts';
export { NO_WORK_RETRY_MS, freshProviderSql } from './scheduler.ts';
export type { ProviderStatus } from './standings.ts';
export type { UnitStatusView } from './unit-queue.ts';

export class TrackerService {
  readonly ctx: TrackerContext;
  readonly scheduler: Scheduler;
  readonly registry: ProviderRegistry;
  readonly standings: Standings;
  readonly units: UnitQueue;
  readonly council: Council;
  readonly cla: Cla;

  constructor(options: TrackerServiceOptions) {
    this.ctx = new TrackerContext(options);
    this.scheduler = new Scheduler(this.ctx);
    this.registry = new ProviderRegistry(this.ctx);
    this.standings = new Standings(this.ctx);
    this.units = new UnitQueue(this.ctx);
    this.council = new Council(this.ctx);
    this.cla = new Cla(this.ctx);
  }

  get db(): Db { return this.ctx.db; }
  get clock(): Clock { return this.ctx.clock; }
  get key(): Ed25519KeyPair { return this.ctx.key; }

  // ---- shared: ledger and trainers ------------------------------------------
  sign<K extends EntryKind>(kind: K, body: EntryBodies[K], time: number): LedgerEntry<K> { return this.ctx.sign(kind, body, time); }
  append(tx: Queryable, entries: readonly LedgerEntry[], now: number): Promise<number> { return this.ctx.append(tx, entries, now); }
  committed(appended: number): Promise<void> { return this.ctx.committed(appended); }
  flushLedger(): Promise<void> { return this.ctx.flushLedger(); }
  isTrainer(keyId: string): boolean { return this.ctx.isTrainer(keyId); }
  /** Trainers' key ids (they create work and never take it). */
  trainerIds(): string[] { return [...this.ctx.trainers]; }

  // ---- registry and standings -----------------------------------------------
  isKnownKey(keyId: string): Promise<boolean> { return this.registry.isKnownKey(keyId); }
  registerProvider(signer: { keyId: string; publicKey: Uint8Array }, req: RegisterProviderRequest): Promise<{ providerId: string; created: boolean }> { return this.registry.registerProvider(signer, req); }
  providerStatus(keyId: string): Promise<ProviderStatus> { return this.standings.providerStatus(keyId); }
  leaderboard(limit?: number): Promise<{ providers: ProviderStatus[]; teams: TeamStanding[] }> { return this.standings.leaderboard(limit); }

  // ---- unit queue -------------------------------------------------------------
  createUnits(actor: string, req: CreateUnitsRequest): Promise<{ created: string[] }> { return this.units.createUnits(actor, req); }
  insertUnits(tx: Queryable, run: string, units: CreateUnitsRequest['units'], now: number, heldBy?: Record<string, readonly string[]>, patches?: Record<string, ParamsPatch>): Promise<void> {
    return this.units.insertUnits(tx, run, units, now, heldBy, patches);
  }
  cancelUnits(tx: Queryable, ids: readonly string[], now: number): Promise<number> { return this.units.cancelUnits(tx, ids, now); }
  unitStatus(id: string): Promise<UnitStatusView> { return this.units.unitStatus(id); }

  // ---- scheduler --------------------------------------------------------------
  wantedFrom(provider: string): Promise<string[]> { return this.scheduler.wantedFrom(provider); }
  async requestWork(provider: string, kinds?: readonly UnitKind[]): Promise<WorkAssignment | null> {
    await this.registry.recordRegistration(provider);
    return this.scheduler.requestWork(provider, kinds);
  }
  async work(provider: string, kinds?: readonly UnitKind[]): Promise<{ unit: WorkAssignment | null; wanted: string[] }> {
    await this.registry.recordRegistration(provider);
    return this.scheduler.work(provider, kinds);
  }
  heartbeat(provider: string, unitId: string): Promise<number> { return this.scheduler.heartbeat(provider, unitId); }
  reportFailure(provider: string, report: FailureReport): Promise<void> { return this.scheduler.reportFailure(provider, report); }
  submitResult(provider: string, sub: ResultSubmission): Promise<{ unitStatus: 'open' | 'valid' | 'error' }> { return this.scheduler.submitResult(provider, sub); }
  async schedule(provider: string, req: SchedulerRequest): Promise<SchedulerResponse> {
    await this.registry.recordRegistration(provider);
    return this.scheduler.schedule(provider, req);
  }

  // ---- daemons ----------------------------------------------------------------
  sweep(limit?: number): Promise<number> { return sweepExpiredLeases(this.ctx, limit); }
  storeUpload(keyId: string, bytes: Uint8Array, expectedSha256: string, maxBytes: number): Promise<StoredUpload> { return storeUpload(this.ctx, keyId, bytes, expectedSha256, maxBytes); }
}
