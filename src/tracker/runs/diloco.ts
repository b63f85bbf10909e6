/**
 * DiLoCo over verified work units (issue 7; DESIGN.md "Data flow of
 * training"). The tracker's side of a run:
 *
 *   round r: K train units (r, k), each a pure function of blobs
 *     (θ_r params, slot k's AdamW state, shard (r, k), H, hyper-parameters),
 *     plus one eval unit scoring θ_r on the run's evaluation windows;
 *   close: once every slot's unit is valid (quorum-verified), or the round's
 *     deadline passed with at least ceil(quorumFraction · K) valid: decode
 *     the canonical results (int8 deltas + AdamW states), aggregate the
 *     deltas in slot order, take the outer Nesterov step
 *     (src/train/diloco/checkpoint.ts outerRound), store θ_{r+1} (global
 *     state blob and params blob) and the slots' new AdamW states as blobs,
 *     append a checkpoint-published entry naming the units it aggregates,
 *     cancel the round's unfinished units (dropped, not waited for), and
 *     issue round r + 1.
 *
 * advance() is idempotent and runs in one transaction with the run row
 * locked, so it can be called from anywhere (after a unit validates, on a
 * timer, after a restart, from several tracker processes): the state in the
 * database says what is left to do. A tracker killed mid-round resumes from
 * the last committed round with every verified unit kept.
 */
import { SwarmError, check } from '../../core/errors.ts';
import { decodeGlobalState, encodeGlobalState, initGlobalState, outerRound } from '../../train/diloco/checkpoint.ts';
import { decodeParamsBlob, encodeParamsBlob } from '../../train/work/params-blob.ts';
import { encodeOptBlob } from '../../train/work/opt-blob.ts';
import { encodeUpdateBlob } from '../../train/work/update-blob.ts';
import { decodeTrainOutput } from '../../train/work/train-result.ts';
import { decodeEvalResult } from '../../train/work/eval-result.ts';
import type { NewUnit, ParamsPatch } from '../../protocol/schemas.ts';
import { freshProviderSql } from '../service.ts';
import type { TrackerService } from '../service.ts';
import { getBlob, putBlob } from '../storage/blobs.ts';
import type { Queryable } from '../storage/db.ts';
import { replicasToIssue } from '../validation/work-unit.ts';
import type { WorkUnitState } from '../validation/work-unit.ts';
import { parseRunSpec, runRoundOptions } from './diloco-spec.ts';
import type { DilocoRunSpec, RoundRecord, RunProgress } from './diloco-spec.ts';

export const RUN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function trainUnitId(run: string, round: number, slot: number): string {
  return `${run}.r${round}.s${slot}`;
}
export function evalUnitId(run: string, round: number): string {
  return `${run}.r${round}.eval`;
}

export interface RunView {
  id: string;
  owner: string | null;
  spec: DilocoRunSpec;
  progress: RunProgress;
  /** why the current round waits (GET of a training run; issue 24) */
  waiting?: RoundWait;
}

/**
 * Why a round has not closed yet, one line per unit that is short of
 * replicas (issue 24: a stall must say why). `stalled`: some unit can get no
 * replica at all now — no online provider may take it (every one has held
 * it, and none whose lease ran out is online to take it back) — so only a
 * provider joining, or the round deadline, moves the round on.
 */
export interface RoundWait {
  round: number;
  stalled: boolean;
  reasons: string[];
  /** the round's deadline (ms): it closes then with the slots that are valid */
  deadline: number;
}

interface RunRow {
  id: string;
  owner: string | null;
  spec: unknown;
  progress: RunProgress | null;
}

async function blobBytes(tx: Queryable, sha: string): Promise<Uint8Array> {
  return (await getBlob(tx, sha)).bytes;
}

/**
 * Bytes a verified train unit moved (issue 7's communication accounting):
 * every returned replica downloaded θ_r and its shard and uploaded its
 * result. θ_r costs `paramsSize`, or `patchSize` (the int8 update from
 * θ_{r−1}, downlink.ts) for a provider that kept the slot's AdamW state: it
 * trained the slot the round before, so it holds θ_{r−1}. The slot's AdamW
 * state (`optSize` bytes, 0 when the tracker never had it) was downloaded
 * only by replicas whose provider did not keep it (`keptBy`); when the
 * tracker has a state that providers kept, one of them uploaded it
 * (`wanted`): one upload. `oneReplica` is DiLoCo's own traffic for the slot,
 * what one replica per slot would have moved: a keeper's replica when a
 * keeper's result is valid, which moves no AdamW state at all — the upload
 * then served only the extra copies (a spot check or a new identity's
 * replication sends a copy to a provider that does not hold the state), so
 * it counts with them, like their θ and shard downloads. When no keeper's
 * result is valid (the keeper left or failed), the one replica needed θ_r
 * whole and the state: the keeper's upload and its download count.
 */
export function replicaTraffic(o: {
  paramsSize: number;
  /** size of the unit's params update blob, null when the run sends θ in f32 (or in round 0) */
  patchSize: number | null;
  shardSize: number;
  optSize: number;
  keptBy: readonly string[];
  resultBytes: number;
  replicas: ReadonlyArray<Pick<WorkUnitState['replicas'][number], 'provider' | 'state' | 'validateState'>>;
}): { down: number; up: number; oneReplica: number } {
  const kept = new Set(o.keptBy);
  const theta = (provider: string): number => (o.patchSize !== null && kept.has(provider) ? o.patchSize : o.paramsSize);
  const returned = o.replicas.filter((x) => x.state === 'returned');
  const optUpload = o.optSize > 0 && kept.size > 0 ? o.optSize : 0;
  const optDownloads = returned.filter((x) => !kept.has(x.provider)).length;
  const keeperValid = returned.find((x) => x.validateState === 'valid' && kept.has(x.provider));
  return {
    down: returned.reduce((a, x) => a + theta(x.provider) + o.shardSize, 0) + o.optSize * optDownloads,
    up: o.resultBytes * returned.length + optUpload,
    oneReplica: o.shardSize + o.resultBytes + (keeperValid !== undefined ? theta(keeperValid.provider) : o.paramsSize + o.optSize + optUpload),
  };
}

export class DilocoRuns {
  constructor(private readonly svc: TrackerService) {}

  private now(): number {
    return this.svc.clock.now();
  }

  /** Units of round r: K train units and the eval unit of θ_r. */
  private roundUnits(runId: string, spec: DilocoRunSpec, p: RunProgress, r: number): NewUnit[] {
    const units: NewUnit[] = [];
    for (let k = 0; k < spec.slots; k++) {
      units.push({
        id: trainUnitId(runId, r, k),
        kind: 'train',
        spec: {
          kind: 'train', v: 1, config: spec.config, params: p.params, opt: p.opt[k] ?? null, data: spec.shards[r]![k]!,
          steps: spec.innerSteps, batch: spec.batch, seqLen: spec.seqLen, adamw: spec.adamw,
          ...(spec.schedule === undefined ? {} : { schedule: spec.schedule }),
          ...(spec.keepOpt === true ? { keepOpt: true } : {}),
        },
        minQuorum: spec.replication,
        leaseMs: spec.leaseMs,
        round: r,
        slot: k,
      });
    }
    return units;
  }

  private evalUnit(runId: string, spec: DilocoRunSpec, params: string, r: number): NewUnit[] {
    if (spec.eval === null) return [];
    return [{
      id: evalUnitId(runId, r),
      kind: 'eval',
      spec: { kind: 'eval', v: 1, config: spec.config, params, data: spec.eval.data, seqLen: spec.seqLen, windows: spec.eval.windows, batch: spec.eval.batch },
      minQuorum: spec.replication,
      leaseMs: spec.leaseMs,
      round: r,
      slot: spec.slots,
    }];
  }

  /** Creates a run (its blobs must be uploaded) and issues round 0. */
  async create(actor: string, runId: string, rawSpec: unknown): Promise<RunView> {
    if (!this.svc.isTrainer(actor)) {
      throw new SwarmError('TRACKER_FORBIDDEN', `only trainers may create runs: key ${actor} is not one; start the tracker with --trainer ${actor} (\`swarm whoami\` prints your key id)`, { keyId: actor });
    }
    check(RUN_ID_RE.test(runId), 'RUN_BAD_ID', 'a run id is 1..64 letters, digits, ".", "_", ":" or "-"');
    const spec = parseRunSpec(rawSpec);
    const now = this.now();
    const view = await this.svc.db.transaction(async (tx) => {
      const exists = await tx.query('SELECT 1 FROM runs WHERE id = $1', [runId]);
      if (exists.length > 0) throw new SwarmError('TRACKER_CONFLICT', `a run "${runId}" already exists`, { run: runId });
      const theta0 = decodeParamsBlob(await blobBytes(tx, spec.init).catch(() => {
        throw new SwarmError('TRACKER_MISSING_INPUT', 'upload θ_0 (init) before creating the run');
      }), spec.config);
      const stateBlob = encodeGlobalState(initGlobalState(theta0, { residual: spec.downlink === 'int8' }));
      const state = (await putBlob(tx, stateBlob, undefined, { now })).sha256;
      const progress: RunProgress = {
        status: 'training', round: 0, state, params: spec.init, opt: Array.from({ length: spec.slots }, () => null),
        deadline: now + spec.roundDeadlineMs, history: [], evalLoss: {},
      };
      await tx.query(`INSERT INTO runs (id, spec, created_at, state, owner, progress, updated_at) VALUES ($1, $2, $3, 'training', $4, $5, $3)`, [
        runId, JSON.stringify(spec), now, actor, JSON.stringify(progress),
      ]);
      await this.svc.insertUnits(tx, runId, [...this.roundUnits(runId, spec, progress, 0), ...this.evalUnit(runId, spec, spec.init, 0)], now);
      return { id: runId, owner: actor, spec, progress };
    });
    return view;
  }

  async get(runId: string): Promise<RunView> {
    const rows = await this.svc.db.query<RunRow & Record<string, unknown>>('SELECT id, owner, spec, progress FROM runs WHERE id = $1', [runId]);
    if (rows.length === 0 || rows[0]!.progress === null) throw new SwarmError('TRACKER_NOT_FOUND', 'no such DiLoCo run', { run: runId });
    const r = rows[0]!;
    const view: RunView = { id: r.id, owner: r.owner, spec: r.spec as DilocoRunSpec, progress: r.progress! };
    if (view.progress.status === 'training') view.waiting = await this.waiting(runId, view.progress);
    return view;
  }

  /**
   * Why round `p.round` waits (RoundWait). Per open unit short of replicas:
   * how many online providers may take it — ones that never held it, and,
   * failing those, ones whose lease of it ran out (the reissue rule,
   * validation/work-unit.ts) — with "online" as the scheduler counts it
   * (seen within the unit's lease; trainers excluded; a unit that waits for
   * a kept input only for its holders).
   */
  async waiting(runId: string, p: RunProgress): Promise<RoundWait> {
    const now = this.now();
    const rows = await this.svc.db.query<{ id: string; kind: string; slot: number; wu: WorkUnitState; missing: number; fresh: string; again: string }>(
      `SELECT u.id, u.kind, u.slot, u.wu, cardinality(u.missing_inputs) AS missing,
              (SELECT count(*) FROM providers p WHERE ${freshProviderSql('$2', '$4')}) AS fresh,
              (SELECT count(*) FROM providers p JOIN replicas r ON r.unit_id = u.id AND r.provider = p.key_id
                WHERE p.last_seen > $2::bigint - COALESCE((u.params->>'leaseMs')::bigint, 120000)
                  AND (r.state = 'timed-out' OR (r.state = 'in-progress' AND r.deadline < $2::bigint))) AS again
         FROM units u WHERE u.run_id = $1 AND u.round = $3 AND u.state = 'open' ORDER BY u.slot`,
      [runId, now, p.round, this.svc.trainerIds()],
    );
    const reasons: string[] = [];
    let stalled = false;
    for (const u of rows) {
      const need = replicasToIssue(u.wu, now);
      if (need === 0) continue; // computing: its replicas are leased
      const what = u.kind === 'eval' ? 'eval' : `slot ${u.slot}`;
      const fresh = Number(u.fresh);
      const again = Number(u.again);
      const more = `needs ${need} more result${need === 1 ? '' : 's'}`;
      if (fresh > 0) reasons.push(`${what}: ${more}; ${fresh} eligible provider${fresh === 1 ? '' : 's'} online`);
      else if (again > 0) reasons.push(`${what}: ${more}; no provider that has not held it is online, so it goes back to one whose lease ran out (${again} online)`);
      else {
        stalled = true;
        const held = u.wu.replicas.length;
        reasons.push(`${what}: ${more}; waiting for a provider that has not held it; 0 eligible online` +
          (held > 0 ? ` (${held} provider${held === 1 ? '' : 's'} held it already)` : '') +
          (u.missing > 0 ? '; it needs a kept AdamW state only its holders have' : ''));
      }
    }
    return { round: p.round, stalled, reasons, deadline: p.deadline };
  }

  async list(): Promise<Array<{ id: string; owner: string | null; status: string; round: number; rounds: number; label: string }>> {
    const rows = await this.svc.db.query<RunRow & Record<string, unknown>>('SELECT id, owner, spec, progress FROM runs WHERE progress IS NOT NULL ORDER BY created_at, id');
    return rows.map((r) => ({ id: r.id, owner: r.owner, status: r.progress!.status, round: r.progress!.round, rounds: (r.spec as DilocoRunSpec).rounds, label: (r.spec as DilocoRunSpec).label }));
  }

  /** Stops a run: its open units are cancelled; θ of the last closed round stays the result. */
  async stop(actor: string, runId: string): Promise<RunView> {
    const now = this.now();
    return this.svc.db.transaction(async (tx) => {
      const rows = await tx.query<RunRow & Record<string, unknown>>('SELECT id, owner, spec, progress FROM runs WHERE id = $1 FOR UPDATE', [runId]);
      if (rows.length === 0 || rows[0]!.progress === null) throw new SwarmError('TRACKER_NOT_FOUND', 'no such DiLoCo run', { run: runId });
      const r = rows[0]!;
      if (r.owner !== actor && actor !== this.svc.key.keyId) throw new SwarmError('TRACKER_FORBIDDEN', 'only the owner of a run may stop it');
      const p = r.progress!;
      if (p.status === 'training') {
        const open = await tx.query<{ id: string }>(`SELECT id FROM units WHERE run_id = $1 AND state = 'open'`, [runId]);
        await this.svc.cancelUnits(tx, open.map((u) => u.id), now);
        p.status = 'stopped';
        await tx.query('UPDATE runs SET progress = $2, state = $3, updated_at = $4 WHERE id = $1', [runId, JSON.stringify(p), p.status, now]);
      }
      return { id: r.id, owner: r.owner, spec: r.spec as DilocoRunSpec, progress: p };
    });
  }

  /** Advances every training run (a timer calls this); returns the runs that closed a round. */
  async advanceAll(): Promise<string[]> {
    const rows = await this.svc.db.query<{ id: string }>(`SELECT id FROM runs WHERE state = 'training' ORDER BY id`);
    const moved: string[] = [];
    for (const { id } of rows) if (await this.advance(id)) moved.push(id);
    return moved;
  }

  /**
   * Closes the current round when it may close (see the header) and issues
   * the next; also records eval losses that have validated. Returns true
   * when a round closed.
   */
  async advance(runId: string): Promise<boolean> {
    const now = this.now();
    let appended = 0;
    const closed = await this.svc.db.transaction(async (tx) => {
      const rows = await tx.query<RunRow & Record<string, unknown>>('SELECT id, owner, spec, progress FROM runs WHERE id = $1 FOR UPDATE', [runId]);
      if (rows.length === 0 || rows[0]!.progress === null) return false;
      const spec = rows[0]!.spec as DilocoRunSpec;
      const p = rows[0]!.progress!;
      let changed = await this.collectEvals(tx, runId, p);
      if (p.status !== 'training') {
        if (changed) await tx.query('UPDATE runs SET progress = $2, updated_at = $3 WHERE id = $1', [runId, JSON.stringify(p), now]);
        return false;
      }
      const r = p.round;
      const units = await tx.query<{ id: string; slot: number; wu: WorkUnitState; state: string; held_by: string[]; patch: string | null }>(
        `SELECT id, slot, wu, state, held_by, patch FROM units WHERE run_id = $1 AND round = $2 AND kind = 'train' ORDER BY slot`,
        [runId, r],
      );
      const valid = units.filter((u) => u.wu.status === 'valid');
      const errored = units.filter((u) => u.wu.status === 'error');
      const minSlots = Math.max(1, Math.ceil(spec.quorumFraction * spec.slots));
      const all = valid.length === spec.slots;
      const late = now >= p.deadline && valid.length >= minSlots;
      const stuck = valid.length + errored.length === spec.slots && valid.length > 0;
      if (!(all || late || stuck)) {
        if (valid.length + errored.length === spec.slots) {
          // every slot errored out: nothing to aggregate; the run cannot go on
          p.status = 'failed';
          p.message = `round ${r}: every unit failed`;
          await tx.query(`UPDATE runs SET progress = $2, state = 'failed', updated_at = $3 WHERE id = $1`, [runId, JSON.stringify(p), now]);
          return false;
        }
        if (changed) await tx.query('UPDATE runs SET progress = $2, updated_at = $3 WHERE id = $1', [runId, JSON.stringify(p), now]);
        return false;
      }
      // --- close round r ----------------------------------------------------
      const state = decodeGlobalState(await blobBytes(tx, p.state), undefined);
      const deltas: Float32Array[] = [];
      const slots: number[] = [];
      let lossSum = 0;
      let lossN = 0;
      let bytesDown = 0;
      let bytesUp = 0;
      let oneCopy = 0;
      const aggregated: Array<{ unit: string; result: string }> = [];
      const newOpt = [...p.opt];
      const heldBy: Record<string, string[]> = {};
      const holders: Array<string[]> = Array.from({ length: spec.slots }, () => []);
      for (const u of valid) {
        const bytes = await blobBytes(tx, u.wu.canonicalHash!);
        const res = decodeTrainOutput(bytes, spec.config);
        deltas.push(res.delta);
        slots.push(u.slot);
        aggregated.push({ unit: u.id, result: u.wu.canonicalHash! });
        const last = res.metrics.losses[res.metrics.losses.length - 1];
        if (last !== undefined) {
          lossSum += last;
          lossN++;
        }
        if (res.opt !== null) {
          newOpt[u.slot] = (await putBlob(tx, encodeOptBlob(spec.config, res.opt), undefined, { now })).sha256;
        } else {
          // kept by the providers whose results formed the quorum (they computed it)
          newOpt[u.slot] = res.optSha256;
          holders[u.slot] = u.wu.replicas.filter((x) => x.state === 'returned' && x.validateState === 'valid').map((x) => x.provider);
        }
        // What the verified replicas moved: each downloaded θ_r and its shard
        // and uploaded its result. The slot's AdamW state moved only where it
        // had to: a provider holding it (held_by) kept it; when the tracker has
        // it although holders were named, one of them uploaded it (`wanted`),
        // and every replica by a non-holder downloaded it.
        // With an int8 downlink, providers that kept the slot's state trained
        // the round before, so they hold θ_{r−1} and download the update
        // (the unit's patch) instead of θ_r; anyone else downloads θ_r.
        const optSha = p.opt[u.slot] ?? null;
        const patchSha = u.patch === null ? null : (JSON.parse(u.patch) as { update: string }).update;
        const shard = spec.shards[r]![u.slot]!;
        const names = [p.params, shard, ...(optSha === null ? [] : [optSha]), ...(patchSha === null ? [] : [patchSha])];
        const sized = await tx.query<{ sha256: string; size: string }>('SELECT sha256, size FROM blobs WHERE sha256 = ANY($1::text[])', [names]);
        const sizeOf = new Map(sized.map((x) => [x.sha256, Number(x.size)]));
        const moved = replicaTraffic({
          paramsSize: sizeOf.get(p.params) ?? 0, patchSize: patchSha === null ? null : sizeOf.get(patchSha) ?? 0, shardSize: sizeOf.get(shard) ?? 0,
          optSize: optSha === null ? 0 : sizeOf.get(optSha) ?? 0, keptBy: u.held_by, resultBytes: bytes.length, replicas: u.wu.replicas,
        });
        bytesDown += moved.down;
        bytesUp += moved.up;
        oneCopy += moved.oneReplica;
      }
      const next = outerRound(state, deltas, runRoundOptions(spec));
      const stateBlob = encodeGlobalState(next.state);
      const stateSha = (await putBlob(tx, stateBlob, undefined, { now })).sha256;
      const paramsSha = (await putBlob(tx, encodeParamsBlob(spec.config, next.state.theta), undefined, { now })).sha256;
      // int8 downlink: the update θ_r → θ_{r+1} as a blob, named by every unit that reads θ_{r+1}
      let patch: ParamsPatch | null = null;
      if (next.update !== undefined) {
        const update = (await putBlob(tx, encodeUpdateBlob(spec.config, { base: p.params, target: paramsSha, update: next.update }), undefined, { now })).sha256;
        patch = { target: paramsSha, base: p.params, update };
      }
      const dropped = units.filter((u) => u.wu.status !== 'valid').map((u) => u.slot);
      // A dropped slot keeps its previous state; if only providers held it, they still do (the dropped unit's holders).
      const resets: number[] = [];
      for (const u of units.filter((x) => x.wu.status !== 'valid')) {
        const opt = p.opt[u.slot];
        if (opt === null || opt === undefined) continue;
        const stored = await tx.query('SELECT 1 FROM blobs WHERE sha256 = $1', [opt]);
        if (stored.length > 0) continue;
        const alive = u.held_by;
        if (alive.length === 0) {
          newOpt[u.slot] = null;
          resets.push(u.slot);
        } else holders[u.slot] = alive;
      }
      await this.svc.cancelUnits(tx, units.filter((u) => u.wu.status === 'open').map((u) => u.id), now);
      const prevState = p.state;
      const record: RoundRecord = { round: r, checkpoint: stateSha, slots, dropped, ...(resets.length > 0 ? { resets } : {}), trainLoss: lossN === 0 ? null : lossSum / lossN, bytesDown, bytesUp, bytesOneReplica: oneCopy, closedAt: now };
      p.history.push(record);
      p.round = r + 1;
      p.state = stateSha;
      p.params = paramsSha;
      p.opt = newOpt;
      p.deadline = now + spec.roundDeadlineMs;
      const checkpointEntry = this.svc.sign('checkpoint-published', { run: runId, round: r + 1, checkpoint: stateSha, parents: [prevState], aggregated }, now);
      appended += await this.svc.append(tx, [checkpointEntry], now);
      const nextUnits: NewUnit[] = [...this.evalUnit(runId, spec, paramsSha, r + 1)];
      if (p.round < spec.rounds) {
        const next = this.roundUnits(runId, spec, p, p.round);
        next.forEach((nu, k) => {
          if (holders[k]!.length > 0) heldBy[nu.id] = holders[k]!;
        });
        nextUnits.push(...next);
      } else p.status = 'finished';
      await this.svc.insertUnits(tx, runId, nextUnits, now, heldBy, patch === null ? {} : Object.fromEntries(nextUnits.map((nu) => [nu.id, patch])));
      changed = true;
      await tx.query('UPDATE runs SET progress = $2, state = $3, updated_at = $4 WHERE id = $1', [runId, JSON.stringify(p), p.status, now]);
      return true;
    });
    await this.svc.committed(appended);
    return closed;
  }

  /** Records eval losses of this run's eval units that have validated since. */
  private async collectEvals(tx: Queryable, runId: string, p: RunProgress): Promise<boolean> {
    const rows = await tx.query<{ round: number; canonical_hash: string }>(
      `SELECT round, canonical_hash FROM units WHERE run_id = $1 AND kind = 'eval' AND state = 'valid'`,
      [runId],
    );
    let changed = false;
    for (const row of rows) {
      if (p.evalLoss[String(row.round)] !== undefined) continue;
      p.evalLoss[String(row.round)] = decodeEvalResult(await blobBytes(tx, row.canonical_hash)).loss;
      changed = true;
    }
    return changed;
  }
}
