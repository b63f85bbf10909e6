/**
 * `swarm witness --tracker URL [--state FILE] [--once] [--interval MS] [--json]`
 *
 * A witness keeps the last tree head it accepted from a tracker and, each
 * round, accepts a new head only if it extends that one (DESIGN.md "Ledger";
 * the witnessing model of transparency-dev / C2SP tlog-cosignature):
 *   1. GET key, GET get-sth; the head must carry the tracker's signature, by
 *      the same key as the heads accepted before;
 *   2. a smaller tree than the accepted one is a ROLLBACK; the same size with
 *      another root, or a larger tree whose consistency proof (RFC 9162
 *      §2.1.4) fails, is a SPLIT VIEW: the tracker shows histories that cannot
 *      both be true. Either raises an alarm: both signed heads are printed as
 *      evidence, the state file is left as it was, and the exit code is 2;
 *   3. otherwise the head is saved as accepted and cosigned (POST cosign).
 *      The first head ever seen is accepted on trust (trust on first use).
 * With --once one round runs; otherwise a round every --interval ms until
 * SIGINT/SIGTERM, and a failed round (tracker unreachable) is reported and
 * retried. Exit: 0 fine, 1 error (with --once), 2 alarm.
 *
 * State file (default $SWARM_HOME/witness/<hash of the URL>.json, mode 0600,
 * replaced atomically by rename): {v, tracker, tracker_key_id, head: {tree_size,
 * timestamp, sha256_root_hash, tree_head_signature}}. The witness's identity is
 * the participant key (cli/identity.ts).
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { CommanderError } from 'commander';
import { base64Decode, base64Encode, bytesEqual } from '../core/encoding.ts';
import { SwarmError, isSwarmError } from '../core/errors.ts';
import { sha256Hex } from '../core/sha256.ts';
import { sleep } from '../core/sleep.ts';
import type { Ed25519KeyPair } from '../ledger/keys.ts';
import { isTreeHeadSignatureValid, witnessCosign } from '../ledger/tree-head.ts';
import type { SignedTreeHead } from '../ledger/tree-head.ts';
import { parsePositiveInt } from './flags.ts';
import { loadOrCreateIdentity, swarmHome } from './identity.ts';
import { LedgerClient, hasCosignature } from './ledger-client.ts';
import type { FetchLike } from './ledger-client.ts';

export const WITNESS_ALARM_EXIT = 2;
const STATE_VERSION = 1;
const MAX_STATE_BYTES = 64 * 1024;

export type AlarmKind = 'rollback' | 'split-view' | 'bad-signature' | 'key-changed' | 'time-backwards';

export interface WitnessState {
  tracker: string;
  trackerKeyId: string;
  head: SignedTreeHead;
}

export type RoundResult =
  | { status: 'accepted'; head: SignedTreeHead; previousSize: number | null; cosigned: boolean }
  | { status: 'unchanged'; head: SignedTreeHead; cosigned: boolean }
  | { status: 'alarm'; alarm: AlarmKind; message: string; trusted: SignedTreeHead | null; seen: SignedTreeHead };

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const processIo: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** Default state file of a tracker URL: one file per tracker under $SWARM_HOME/witness. */
export function defaultStatePath(tracker: string, home: string = swarmHome()): string {
  return join(home, 'witness', `${sha256Hex(tracker).slice(0, 32)}.json`);
}

function headJson(h: SignedTreeHead) {
  return {
    tree_size: h.treeSize,
    timestamp: h.timestamp,
    sha256_root_hash: base64Encode(h.rootHash),
    tree_head_signature: base64Encode(h.signature),
  };
}

function corruptState(path: string, why: string): SwarmError {
  return new SwarmError('WITNESS_STATE_CORRUPT', `${path}: ${why}; move it away to start over (this forgets the accepted head)`, { path });
}

/** Reads the state file; undefined when it does not exist. */
export async function loadWitnessState(path: string): Promise<WitnessState | undefined> {
  let text: string;
  try {
    const st = await fs.stat(path);
    if (st.size > MAX_STATE_BYTES) throw corruptState(path, 'larger than a state file can be');
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (isSwarmError(e)) throw e;
    throw new SwarmError('WITNESS_STATE_IO', `cannot read ${path}: ${(e as Error).message}`, { path });
  }
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    const h = j.head as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : NaN);
    const head: SignedTreeHead = {
      treeSize: num(h.tree_size),
      timestamp: num(h.timestamp),
      rootHash: base64Decode(String(h.sha256_root_hash)),
      signature: base64Decode(String(h.tree_head_signature)),
    };
    if (j.v !== STATE_VERSION || typeof j.tracker !== 'string' || typeof j.tracker_key_id !== 'string') throw new Error('fields');
    if (Number.isNaN(head.treeSize) || Number.isNaN(head.timestamp) || head.rootHash.length !== 32 || head.signature.length !== 64) throw new Error('head');
    return { tracker: j.tracker, trackerKeyId: j.tracker_key_id, head };
  } catch {
    throw corruptState(path, 'not a witness state file');
  }
}

/** Writes the state file atomically (temporary file, then rename), mode 0600. */
export async function saveWitnessState(path: string, state: WitnessState): Promise<void> {
  const text = `${JSON.stringify({ v: STATE_VERSION, tracker: state.tracker, tracker_key_id: state.trackerKeyId, head: headJson(state.head) }, null, 2)}\n`;
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await fs.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await fs.writeFile(tmp, text, { mode: 0o600 });
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new SwarmError('WITNESS_STATE_IO', `cannot write ${path}: ${(e as Error).message}`, { path });
  }
}

export interface WitnessRoundDeps {
  client: LedgerClient;
  witness: Ed25519KeyPair;
  statePath: string;
  tracker: string;
}

/** One witness round (see the header). Throws only for errors (network, state file); alarms are results. */
export async function witnessRound(d: WitnessRoundDeps): Promise<RoundResult> {
  const { client, witness, statePath } = d;
  const state = await loadWitnessState(statePath);
  const key = await client.key();
  const { head, cosignatures } = await client.sth();
  const trusted = state?.head ?? null;
  const alarm = (kind: AlarmKind, message: string): RoundResult => ({ status: 'alarm', alarm: kind, message, trusted, seen: head });

  if (state !== undefined && state.trackerKeyId !== key.keyId) {
    return alarm('key-changed', `the tracker now presents key ${key.keyId}, but the heads this witness accepted were signed by ${state.trackerKeyId}`);
  }
  if (!isTreeHeadSignatureValid(head, key.publicKey)) {
    return alarm('bad-signature', `the head of size ${head.treeSize} does not carry a valid signature by the tracker key ${key.keyId}`);
  }
  const deliver = async (h: SignedTreeHead): Promise<boolean> => {
    const { stored } = await client.cosign(h, witness);
    return stored;
  };

  if (trusted !== null) {
    if (head.treeSize < trusted.treeSize) {
      return alarm(
        'rollback',
        `the tracker's head has tree_size ${head.treeSize}, smaller than the head of size ${trusted.treeSize} this witness accepted: a log only grows, so the tracker lost or rewrote history`,
      );
    }
    if (head.treeSize === trusted.treeSize) {
      if (!bytesEqual(head.rootHash, trusted.rootHash)) {
        return alarm('split-view', `two signed heads of tree_size ${head.treeSize} with different roots: the tracker shows different histories`);
      }
      if (head.timestamp < trusted.timestamp) {
        return alarm('time-backwards', `the head of size ${head.treeSize} is timestamped ${head.timestamp}, before the accepted one (${trusted.timestamp})`);
      }
      // Same tree. Deliver our cosignature again if the tracker does not show it
      // (a previous POST may have failed after the state was saved).
      const mine = witnessCosign({ trusted, next: head, proof: [], trackerKey: key.publicKey, witness });
      const shown = hasCosignature(cosignatures, witness.keyId, mine.signature);
      if (!shown) await deliver(head);
      if (head.timestamp !== trusted.timestamp) await saveWitnessState(statePath, { tracker: d.tracker, trackerKeyId: key.keyId, head });
      return { status: 'unchanged', head, cosigned: !shown };
    }
    const proof = await client.consistency(trusted.treeSize, head.treeSize);
    try {
      witnessCosign({ trusted, next: head, proof, trackerKey: key.publicKey, witness });
    } catch (e) {
      if (isSwarmError(e, 'LEDGER_INCONSISTENT') || isSwarmError(e, 'LEDGER_BAD_PROOF')) {
        return alarm(
          'split-view',
          `the head of size ${head.treeSize} does not extend the accepted head of size ${trusted.treeSize}: the consistency proof ${
            isSwarmError(e, 'LEDGER_BAD_PROOF') ? 'is malformed' : 'fails'
          } (${e.message})`,
        );
      }
      if (isSwarmError(e, 'LEDGER_BAD_TREE_HEAD')) return alarm('time-backwards', e.message);
      throw e;
    }
  }
  // Accept: remember first, then cosign, so a crash in between never lets the
  // witness forget a head it vouched for.
  await saveWitnessState(statePath, { tracker: d.tracker, trackerKeyId: key.keyId, head });
  const cosigned = await deliver(head);
  return { status: 'accepted', head, previousSize: trusted?.treeSize ?? null, cosigned };
}

export interface WitnessFlags {
  tracker: string;
  state?: string;
  once?: boolean;
  interval: number;
  json?: boolean;
}

export interface WitnessDeps {
  witness: Ed25519KeyPair;
  io?: Io;
  fetch?: FetchLike;
  /** Stops the loop (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
  /** Default state directory home (tests); $SWARM_HOME otherwise. */
  home?: string;
}

function describe(r: RoundResult): string {
  const root = (h: SignedTreeHead) => base64Encode(h.rootHash);
  switch (r.status) {
    case 'accepted':
      return `accepted head tree_size=${r.head.treeSize} root=${root(r.head)}${r.previousSize === null ? ' (first head: trusted on first use)' : ` (consistent with ${r.previousSize})`}${r.cosigned ? ', cosigned' : ''}\n`;
    case 'unchanged':
      return `head unchanged: tree_size=${r.head.treeSize} root=${root(r.head)}${r.cosigned ? ' (cosignature delivered)' : ''}\n`;
    case 'alarm':
      return (
        `ALARM (${r.alarm}): ${r.message}\n` +
        `  accepted head: ${r.trusted === null ? 'none' : JSON.stringify(headJson(r.trusted))}\n` +
        `  tracker's head: ${JSON.stringify(headJson(r.seen))}\n` +
        '  Both heads are signed by the tracker: keep them as evidence. The state file was left unchanged.\n'
      );
  }
}

function roundJson(r: RoundResult): Record<string, unknown> {
  if (r.status === 'alarm') {
    return { status: 'alarm', alarm: r.alarm, message: r.message, accepted: r.trusted === null ? null : headJson(r.trusted), seen: headJson(r.seen) };
  }
  return { ...r, head: headJson(r.head) };
}

/** Runs the witness (see the header); resolves to the exit code. */
export async function runWitness(flags: WitnessFlags, deps: WitnessDeps): Promise<number> {
  const io = deps.io ?? processIo;
  let client: LedgerClient;
  try {
    client = new LedgerClient(flags.tracker, deps.fetch === undefined ? {} : { fetch: deps.fetch });
  } catch (e) {
    if (!isSwarmError(e)) throw e;
    io.err(`swarm witness: error ${e.code}: ${e.message}\n`);
    return 1;
  }
  const statePath = flags.state ?? defaultStatePath(client.base, deps.home);
  for (;;) {
    try {
      const r = await witnessRound({ client, witness: deps.witness, statePath, tracker: client.base });
      if (flags.json) io.out(`${JSON.stringify(roundJson(r))}\n`);
      if (r.status === 'alarm') {
        io.err(describe(r));
        return WITNESS_ALARM_EXIT;
      }
      if (!flags.json) io.out(describe(r));
    } catch (e) {
      if (!isSwarmError(e)) throw e;
      io.err(`swarm witness: error ${e.code}: ${e.message}\n`);
      if (flags.once) return 1;
    }
    if (flags.once || deps.signal?.aborted) return 0;
    await sleep(flags.interval, deps.signal);
    if (deps.signal?.aborted) return 0;
  }
}

export function registerWitness(program: Command): void {
  program
    .command('witness')
    .summary("watch a tracker's ledger and cosign its tree heads")
    .description("watch a tracker's ledger: check that each signed tree head extends the last one accepted, cosign it, and raise an alarm (exit code 2) on a rollback or a split view")
    .requiredOption('--tracker <url>', 'tracker base URL, e.g. http://127.0.0.1:7070')
    .option('--state <file>', 'where the last accepted head is kept (default: under $SWARM_HOME/witness)')
    .option('--once', 'run one round and exit (default: a round every --interval until Ctrl-C)')
    .option('--interval <ms>', 'milliseconds between rounds', parsePositiveInt('--interval', 86_400_000), 60_000)
    .option('--json', 'print one JSON object per round')
    .action(async (o: WitnessFlags) => {
      const { keyPair } = await loadOrCreateIdentity(swarmHome());
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const code = await runWitness(o, { witness: keyPair, signal: stop.signal });
        if (code !== 0) throw new CommanderError(code, 'swarm.witness', code === WITNESS_ALARM_EXIT ? 'witness alarm' : 'witness failed');
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
