/**
 * `swarm audit` and `swarm witness` end to end against /ledger/v1 served over
 * real HTTP (@hono/node-server on 127.0.0.1:0), on PGlite and, when
 * SWARM_TEST_PG_URL is set, PostgreSQL. The log is written the way the
 * tracker writes it: queued in a transaction per state change, then numbered
 * into the log by the sequencer (test/tracker/ledger/append.ts).
 *
 * Tamper test: one changed byte in one stored leaf_input -> the audit exits 1
 * and names that entry. Rollback test: entries and heads deleted after a
 * witness accepted a head -> the witness exits 2 with a rollback alarm.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runAudit } from '../../src/cli/audit.ts';
import type { AuditCliReport } from '../../src/cli/audit.ts';
import { main } from '../../src/cli/main.ts';
import { runWitness } from '../../src/cli/witness.ts';
import type { Io } from '../../src/cli/witness.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { base64Decode } from '../../src/core/encoding.ts';
import { encodeEntry } from '../../src/ledger/entry.ts';
import type { LedgerEntry } from '../../src/ledger/entry.ts';
import type { Ed25519KeyPair } from '../../src/ledger/keys.ts';
import { isCosignatureValid } from '../../src/ledger/tree-head.ts';
import { createLedgerRoutes } from '../../src/tracker/ledger/routes.ts';
import type { Db } from '../../src/tracker/storage/db.ts';
import { makeLeaves, testKey } from '../ledger/helpers.ts';
import { H1, H2, alice, bob, credit, realisticLog, result, tracker, valid } from '../ledger/log-fixture.ts';
import { appendLeaves } from '../tracker/ledger/append.ts';
import { BACKENDS, resetSchema, warnIfNoPostgres } from '../tracker/ledger/backends.ts';

warnIfNoPostgres('witness and audit');

const tmp = mkdtempSync(join(tmpdir(), 'swarm-witness-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Captured output of one CLI run. */
function capture(): Io & { stdout: () => string; stderr: () => string } {
  let o = '';
  let e = '';
  return { out: (s) => void (o += s), err: (s) => void (e += s), stdout: () => o, stderr: () => e };
}

/** An HTTP server whose app can be swapped (a tracker restarting on another database state). */
async function startServer(): Promise<{ url: string; setApp: (app: Hono) => void; close: () => Promise<void> }> {
  let current = new Hono();
  const server = await new Promise<ReturnType<typeof serve>>((ok) => {
    const s = serve({ fetch: (req) => current.fetch(req), port: 0, hostname: '127.0.0.1' }, () => ok(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setApp: (app) => void (current = app),
    close: () =>
      new Promise((done) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => done());
      }),
  };
}

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip).sequential(`swarm audit and witness on ${backend.name}`, () => {
    let db: Db;
    let srv: Awaited<ReturnType<typeof startServer>>;
    let clock: ManualClock;
    beforeAll(async () => {
      db = await backend.open('witness_audit');
      srv = await startServer();
      return async () => {
        await srv.close();
        await db.close();
      };
    });
    beforeEach(async () => {
      await resetSchema(db);
      restart();
    });

    /** A (re)started tracker: fresh store and signer over the database, as after a process restart. */
    function restart(key: Ed25519KeyPair = tracker): void {
      clock = new ManualClock(1_764_000_000_000);
      srv.setApp(new Hono().route('/ledger/v1', createLedgerRoutes({ db, trackerKey: key, clock })));
    }

    /** One transaction per entry, as the tracker appends with each state change. */
    async function write(entries: readonly (LedgerEntry | Uint8Array)[]): Promise<void> {
      for (const e of entries) await appendLeaves(db, [e instanceof Uint8Array ? e : encodeEntry(e)], clock.now());
    }

    async function audit(args: { proofs?: number | 'all'; json?: boolean } = {}): Promise<{ code: number; report: AuditCliReport | undefined; io: ReturnType<typeof capture> }> {
      const io = capture();
      const code = await runAudit({ tracker: srv.url, json: args.json ?? true, ...(args.proofs === undefined ? {} : { proofs: args.proofs }) }, { io });
      const report = args.json === false || io.stdout() === '' ? undefined : (JSON.parse(io.stdout()) as AuditCliReport);
      return { code, report, io };
    }

    it('tamper test: the audit passes, then one changed byte of one stored entry fails it and names that entry', async () => {
      const log = realisticLog();
      await write(log);
      const ok = await audit({ proofs: 'all' });
      expect(ok.code).toBe(0);
      expect(ok.report).toMatchObject({ ok: true, treeSize: 23, firstBad: null, headSignatureValid: true, rootMatches: true, inclusionProofs: { checked: 23, failed: 0 } });
      expect(ok.report!.consistency.map((c) => c.ok)).toEqual([true, true]);
      expect(ok.report!.counts).toMatchObject({ 'credit-granted': 4, verdict: 5, 'checkpoint-published': 1 });

      // One byte of entry 13 (a result-submitted), changed in the database.
      await db.query('UPDATE ledger_entries SET leaf_input = set_byte(leaf_input, 60, get_byte(leaf_input, 60) # 1) WHERE seq = 13');
      const bad = await audit({ proofs: 'all' });
      expect(bad.code).toBe(1);
      expect(bad.report!.ok).toBe(false);
      expect(bad.report!.firstBad!.index).toBe(13);
      // which check trips depends on the byte (here: a digit of the actor's key id)
      expect(['undecodable', 'bad-signature', 'unknown-signer']).toContain(bad.report!.firstBad!.reason);
      expect(bad.report!.rootMatches).toBe(false);
      expect(bad.report!.inclusionProofs.failed).toBe(1); // the tracker has no leaf with the changed bytes' hash
      // The human-readable form names it too.
      const text = await audit({ json: false });
      expect(text.code).toBe(1);
      expect(text.io.stderr()).toMatch(/AUDIT FAILED/);
      expect(text.io.stderr()).toMatch(/first bad entry: #13 /);
    });

    it('the audit names bookkeeping violations: credit without a verdict, a valid verdict without its quorum', async () => {
      const start = realisticLog().slice(0, 7); // registrations, two issues, two agreeing results of u1
      await write([...start, credit('u1', alice, H1)]);
      let r = await audit();
      expect(r.code).toBe(1);
      expect(r.report!.firstBad).toMatchObject({ index: 7, kind: 'credit-granted', reason: 'credit-without-verdict' });
      expect(r.report!.rootMatches).toBe(true); // the log is intact; its bookkeeping is not

      await resetSchema(db);
      restart();
      await write([...start.slice(0, 6), result('u1', bob, H2), valid('u1', alice, H1, 2)]);
      r = await audit();
      expect(r.code).toBe(1);
      expect(r.report!.firstBad).toMatchObject({ index: 7, kind: 'verdict', reason: 'verdict-without-quorum' });
    });

    it('swarm audit through main(): exit code 0 / 1', async () => {
      await write(realisticLog());
      const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        expect(await main(['node', 'swarm', 'audit', '--tracker', srv.url, '--json', '--proofs', '5'])).toBe(0);
        await db.query('UPDATE ledger_entries SET leaf_input = set_byte(leaf_input, 2, get_byte(leaf_input, 2) # 4) WHERE seq = 20');
        expect(await main(['node', 'swarm', 'audit', '--tracker', srv.url])).toBe(1);
        expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/first bad entry: #20 /);
        expect(await main(['node', 'swarm', 'audit', '--tracker', srv.url, '--proofs', 'many'])).not.toBe(0);
      } finally {
        out.mockRestore();
        err.mockRestore();
      }
    });

    it('rollback test: the witness accepts and cosigns heads, then alarms (exit 2) when entries and heads are deleted', async () => {
      const witness = testKey(30);
      const state = join(tmp, `${backend.name}-rollback.json`);
      rmSync(state, { force: true });
      const round = async () => {
        const io = capture();
        const code = await runWitness({ tracker: srv.url, state, once: true, interval: 1, json: true }, { witness, io });
        return { code, io, out: io.stdout() === '' ? undefined : (JSON.parse(io.stdout().trim().split('\n').at(-1)!) as Record<string, unknown>) };
      };
      await write(makeLeaves(10, 'witness'));
      let r = await round();
      expect(r.code).toBe(0);
      expect(r.out).toMatchObject({ status: 'accepted', previousSize: null, cosigned: true, head: { tree_size: 10 } });
      expect(statSync(state).mode & 0o777).toBe(0o600);
      const sth = (await (await fetch(`${srv.url}/ledger/v1/get-sth`)).json()) as { cosignatures: { key_id: string; signature: string }[]; tree_size: number; timestamp: number; sha256_root_hash: string };
      expect(sth.cosignatures.map((c) => c.key_id)).toEqual([witness.keyId]);
      const head = { treeSize: sth.tree_size, timestamp: sth.timestamp, rootHash: base64Decode(sth.sha256_root_hash) };
      expect(isCosignatureValid(head, { witness: witness.keyId, signature: base64Decode(sth.cosignatures[0]!.signature) }, witness.publicKeyRaw)).toBe(true);

      r = await round();
      expect(r.out).toMatchObject({ status: 'unchanged', cosigned: false });

      await write(makeLeaves(15, 'witness').slice(10));
      clock.advance(1000); // the next head is due
      r = await round();
      expect(r.out).toMatchObject({ status: 'accepted', previousSize: 10, cosigned: true, head: { tree_size: 15 } });
      const accepted = readFileSync(state, 'utf8');

      // History rewritten backwards: the last entries and the heads covering them vanish.
      await db.query('DELETE FROM ledger_entries WHERE seq >= 12');
      await db.query('DELETE FROM ledger_heads WHERE tree_size > 12');
      r = await round();
      expect(r.code).toBe(2);
      // The tracker, its T ms elapsed, signs the shrunken log afresh: a signed head of 12 after one of 15.
      expect(r.out).toMatchObject({ status: 'alarm', alarm: 'rollback', accepted: { tree_size: 15 }, seen: { tree_size: 12 } });
      expect(r.io.stderr()).toMatch(/ALARM \(rollback\)/);
      expect(r.io.stderr()).toMatch(/smaller than the head of size 15/);
      expect(readFileSync(state, 'utf8')).toBe(accepted); // the evidence stays

      // Through main(): the same alarm is exit code 2. The identity comes from $SWARM_HOME.
      const home = mkdtempSync(join(tmp, 'home-'));
      const saved = process.env.SWARM_HOME;
      process.env.SWARM_HOME = home;
      const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      try {
        const state2 = join(home, 'w.json');
        writeFileSync(state2, accepted);
        expect(await main(['node', 'swarm', 'witness', '--tracker', srv.url, '--once', '--state', state2])).toBe(2);
        expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/ALARM \(rollback\)/);
      } finally {
        err.mockRestore();
        out.mockRestore();
        if (saved === undefined) delete process.env.SWARM_HOME;
        else process.env.SWARM_HOME = saved;
      }
    });

    it('split view: a forked history of another size, or of the same size, is an alarm; so is a new tracker key', async () => {
      const witness = testKey(31);
      const state = join(tmp, `${backend.name}-split.json`);
      rmSync(state, { force: true });
      const round = async () => {
        const io = capture();
        const code = await runWitness({ tracker: srv.url, state, once: true, interval: 1 }, { witness, io });
        return { code, err: io.stderr(), out: io.stdout() };
      };
      await write(makeLeaves(12, 'history-a'));
      expect((await round()).code).toBe(0);

      // The tracker restarts on a database holding another history, longer than the accepted one.
      await resetSchema(db);
      restart();
      await write(makeLeaves(17, 'history-b'));
      let r = await round();
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/ALARM \(split-view\): the head of size 17 does not extend the accepted head of size 12/);

      // Same size, other root.
      await resetSchema(db);
      restart();
      await write(makeLeaves(12, 'history-c'));
      r = await round();
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/ALARM \(split-view\): two signed heads of tree_size 12 with different roots/);

      // Another tracker key.
      await resetSchema(db);
      restart(testKey(40));
      await write(makeLeaves(12, 'history-a'));
      r = await round();
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/ALARM \(key-changed\)/);
    });
  });
}

describe('swarm witness and audit without a tracker', () => {
  it('report an unreachable tracker, a bad URL and a corrupt state file with exit 1', async () => {
    const io = capture();
    const dead = 'http://127.0.0.1:9'; // discard port: nothing listens
    expect(await runWitness({ tracker: dead, state: join(tmp, 'dead.json'), once: true, interval: 1 }, { witness: testKey(32), io })).toBe(1);
    expect(io.stderr()).toMatch(/LEDGER_CLIENT_UNREACHABLE/);
    const io2 = capture();
    expect(await runAudit({ tracker: dead }, { io: io2 })).toBe(1);
    expect(io2.stderr()).toMatch(/LEDGER_CLIENT_UNREACHABLE/);
    const io3 = capture();
    expect(await runAudit({ tracker: 'ftp://x' }, { io: io3 })).toBe(1);
    expect(io3.stderr()).toMatch(/CLI_BAD_FLAG/);
    const corrupt = join(tmp, 'corrupt.json');
    writeFileSync(corrupt, '{"v": 1, "head": 5}');
    const io4 = capture();
    expect(await runWitness({ tracker: dead, state: corrupt, once: true, interval: 1 }, { witness: testKey(32), io: io4 })).toBe(1);
    expect(io4.stderr()).toMatch(/WITNESS_STATE_CORRUPT/);
  });
});
