/**
 * /ledger/v1 on PGlite, and on PostgreSQL when SWARM_TEST_PG_URL is set:
 * every answer checked with src/ledger (proofs verify, heads carry the
 * tracker's signature), bad input answered with coded 4xx, heads signed in
 * batches by a ManualClock, the store catching up from the database.
 */
import fc from 'fast-check';
import { Hono } from 'hono';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.ts';
import { base64Decode, base64Encode } from '../../../src/core/encoding.ts';
import { encodeEntry } from '../../../src/ledger/entry.ts';
import {
  consistencyProof,
  emptyRootHash,
  inclusionProof,
  leafHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/ledger/merkle.ts';
import { cosignTreeHead, isCosignatureValid, isTreeHeadSignatureValid } from '../../../src/ledger/tree-head.ts';
import type { TreeHead } from '../../../src/ledger/tree-head.ts';
import { MAX_COSIGNATURES_PER_HEAD } from '../../../src/tracker/ledger/cosignatures.ts';
import { TreeHeadSigner } from '../../../src/tracker/ledger/heads.ts';
import { createLedgerRoutes } from '../../../src/tracker/ledger/routes.ts';
import { LedgerStore } from '../../../src/tracker/ledger/store.ts';
import type { Db } from '../../../src/tracker/storage/db.ts';
import { codeOf, codeOfAsync } from '../../helpers/errors.ts';
import { makeLeaves, testKey } from '../../ledger/helpers.ts';
import { realisticLog, tracker } from '../../ledger/log-fixture.ts';
import { appendLeaves } from './append.ts';
import { BACKENDS, resetSchema, warnIfNoPostgres } from './backends.ts';

warnIfNoPostgres('ledger routes');

type Json = Record<string, unknown>;
const b64 = base64Encode;
const enc = encodeURIComponent;

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip).sequential(`ledger routes on ${backend.name}`, () => {
    let db: Db;
    beforeAll(async () => {
      db = await backend.open('ledger_routes');
      return () => db.close();
    });
    beforeEach(() => resetSchema(db));

    async function append(leaves: readonly Uint8Array[], now = 1): Promise<void> {
      await appendLeaves(db, leaves, now);
    }

    function mount(routes: Hono): Hono {
      return new Hono().route('/ledger/v1', routes);
    }

    function server(o: { clock?: ManualClock; batchSize?: number; maxDelayMs?: number; maxEntriesPerRequest?: number; signer?: TreeHeadSigner } = {}) {
      const clock = o.clock ?? new ManualClock(1_000_000);
      const app = mount(createLedgerRoutes({ db, trackerKey: tracker, clock, ...o }));
      const call = async (path: string, init?: RequestInit): Promise<{ status: number; body: Json }> => {
        const res = await app.request(`/ledger/v1/${path}`, init);
        return { status: res.status, body: (await res.json()) as Json };
      };
      return { app, clock, call };
    }

    function headOf(j: Json): TreeHead & { signature: Uint8Array } {
      return {
        treeSize: j.tree_size as number,
        timestamp: j.timestamp as number,
        rootHash: base64Decode(j.sha256_root_hash as string),
        signature: base64Decode(j.tree_head_signature as string),
      };
    }

    it('get-sth of an empty log: a head of size 0 signed on demand; key serves the tracker key', async () => {
      const { call } = server();
      const sth = await call('get-sth');
      expect(sth.status).toBe(200);
      expect(sth.body).toMatchObject({ tree_size: 0, timestamp: 1_000_000, sha256_root_hash: b64(emptyRootHash()), key_id: tracker.keyId, cosignatures: [] });
      expect(isTreeHeadSignatureValid(headOf(sth.body), tracker.publicKeyRaw)).toBe(true);
      const key = await call('key');
      expect(key).toEqual({ status: 200, body: { key_id: tracker.keyId, public_key: b64(tracker.publicKeyRaw), algorithm: 'ed25519' } });
    });

    it('serves entries and proofs that verify with src/ledger/merkle.ts against the signed head', async () => {
      const leaves = realisticLog().map(encodeEntry);
      await append(leaves);
      const hashes = leaves.map(leafHash);
      const { call } = server();
      const sth = await call('get-sth');
      const head = headOf(sth.body);
      expect(head.treeSize).toBe(23);
      expect(head.rootHash).toEqual(rootHash(hashes));
      expect(isTreeHeadSignatureValid(head, tracker.publicKeyRaw)).toBe(true);

      const entries = await call('get-entries?start=0&end=22');
      expect((entries.body.entries as Json[]).map((e) => e.leaf_index)).toEqual([...Array(23).keys()]);
      expect((entries.body.entries as Json[]).map((e) => base64Decode(e.leaf_input as string))).toEqual(leaves);

      for (let i = 0; i < 23; i++) {
        for (const size of [i + 1, 23]) {
          const p = await call(`get-proof-by-hash?hash=${enc(b64(hashes[i]!))}&tree_size=${size}`);
          expect(p.status).toBe(200);
          expect(p.body.leaf_index).toBe(i);
          const path = (p.body.audit_path as string[]).map(base64Decode);
          expect(path).toEqual(inclusionProof(hashes, i, size));
          expect(verifyInclusion(hashes[i]!, i, size, path, rootHash(hashes.slice(0, size)))).toBe(true);
        }
      }
      for (let second = 0; second <= 23; second++) {
        for (const first of new Set([0, 1, Math.floor(second / 2), second - 1, second].filter((f) => f >= 0 && f <= second))) {
          const c = await call(`get-sth-consistency?first=${first}&second=${second}`);
          expect(c.status).toBe(200);
          const proof = (c.body.consistency as string[]).map(base64Decode);
          expect(proof).toEqual(consistencyProof(hashes, first, second));
          expect(verifyConsistency(first, second, rootHash(hashes.slice(0, first)), rootHash(hashes.slice(0, second)), proof)).toBe(true);
        }
      }
    });

    it('get-entries caps the count per request and clamps the end to the log (clients page)', async () => {
      await append(makeLeaves(23));
      const { call } = server({ maxEntriesPerRequest: 5 });
      const idx = async (q: string) => ((await call(`get-entries?${q}`)).body.entries as Json[]).map((e) => e.leaf_index);
      expect(await idx('start=0&end=100')).toEqual([0, 1, 2, 3, 4]);
      expect(await idx('start=20&end=100')).toEqual([20, 21, 22]);
      expect(await idx('start=22&end=22')).toEqual([22]);
      expect(await idx('start=3&end=4')).toEqual([3, 4]);
      expect(() => createLedgerRoutes({ db, trackerKey: tracker, clock: new ManualClock(0), maxEntriesPerRequest: 0 })).toThrow(/maxEntriesPerRequest/);
    });

    it('answers every bad request with a coded 4xx, never a 5xx', async () => {
      const leaves = makeLeaves(23);
      await append(leaves);
      const { call } = server();
      const h = (i: number) => enc(b64(leafHash(leaves[i]!)));
      const unknown = enc(b64(leafHash(new Uint8Array([1, 2, 3]))));
      const cases: [string, number, string][] = [
        ['get-sth-consistency', 400, 'LEDGER_BAD_REQUEST'],
        ['get-sth-consistency?first=1', 400, 'LEDGER_BAD_REQUEST'],
        ['get-sth-consistency?first=a&second=2', 400, 'LEDGER_BAD_REQUEST'],
        ['get-sth-consistency?first=-1&second=2', 400, 'LEDGER_BAD_REQUEST'],
        ['get-sth-consistency?first=01&second=2', 400, 'LEDGER_BAD_REQUEST'],
        ['get-sth-consistency?first=1.5&second=2', 400, 'LEDGER_BAD_REQUEST'],
        ['get-sth-consistency?first=1e3&second=2000', 400, 'LEDGER_BAD_REQUEST'],
        ['get-sth-consistency?first=99999999999999999999&second=2', 400, 'LEDGER_BAD_REQUEST'],
        ['get-sth-consistency?first=&second=2', 400, 'LEDGER_BAD_REQUEST'],
        ['get-sth-consistency?first=3&second=2', 400, 'LEDGER_BAD_REQUEST'],
        ['get-sth-consistency?first=1&second=24', 400, 'LEDGER_BAD_REQUEST'],
        ['get-proof-by-hash?tree_size=5', 400, 'LEDGER_BAD_REQUEST'],
        [`get-proof-by-hash?hash=${h(0)}`, 400, 'LEDGER_BAD_REQUEST'],
        ['get-proof-by-hash?hash=not*base64&tree_size=5', 400, 'LEDGER_BAD_REQUEST'],
        [`get-proof-by-hash?hash=${enc(b64(new Uint8Array(31)))}&tree_size=5`, 400, 'LEDGER_BAD_REQUEST'],
        [`get-proof-by-hash?hash=${h(0)}&tree_size=0`, 400, 'LEDGER_BAD_REQUEST'],
        [`get-proof-by-hash?hash=${h(0)}&tree_size=24`, 400, 'LEDGER_BAD_REQUEST'],
        [`get-proof-by-hash?hash=${h(0)}&tree_size=x`, 400, 'LEDGER_BAD_REQUEST'],
        [`get-proof-by-hash?hash=${unknown}&tree_size=5`, 404, 'LEDGER_NOT_FOUND'],
        [`get-proof-by-hash?hash=${h(10)}&tree_size=5`, 404, 'LEDGER_NOT_FOUND'],
        ['get-entries?start=5', 400, 'LEDGER_BAD_REQUEST'],
        ['get-entries?end=5', 400, 'LEDGER_BAD_REQUEST'],
        ['get-entries?start=5&end=4', 400, 'LEDGER_BAD_REQUEST'],
        ['get-entries?start=x&end=4', 400, 'LEDGER_BAD_REQUEST'],
        ['get-entries?start=23&end=30', 400, 'LEDGER_BAD_REQUEST'],
        ['get-entries?start=0&end=%FF', 400, 'LEDGER_BAD_REQUEST'],
        ['nope', 404, 'TRACKER_NOT_FOUND'],
        ['get-sth/x', 404, 'TRACKER_NOT_FOUND'],
        ['cosign', 405, 'TRACKER_METHOD'],
      ];
      for (const [path, status, code] of cases) {
        const r = await call(path);
        expect({ path, status: r.status, code: (r.body.error as Json | undefined)?.code }).toEqual({ path, status, code });
      }
      expect(await call('get-sth', { method: 'POST' })).toMatchObject({ status: 405, body: { error: { code: 'TRACKER_METHOD' } } });
      expect(await call('get-entries?start=0&end=1', { method: 'DELETE' })).toMatchObject({ status: 405 });
    });

    it("accepts a leaf hash whose '+' arrived unescaped (read as a space)", async () => {
      const leaves = makeLeaves(64, 'plus');
      await append(leaves);
      const { call } = server();
      const i = leaves.findIndex((l) => b64(leafHash(l)).includes('+'));
      expect(i).toBeGreaterThanOrEqual(0);
      const r = await call(`get-proof-by-hash?hash=${b64(leafHash(leaves[i]!))}&tree_size=64`);
      expect(r.status).toBe(200);
      expect(r.body.leaf_index).toBe(i);
    });

    it('signs heads in batches: every N entries or after T ms (ManualClock), forward only', async () => {
      const clock = new ManualClock(10_000);
      const store = new LedgerStore(db);
      const signer = new TreeHeadSigner({ db, store, trackerKey: tracker, clock, batchSize: 4, maxDelayMs: 1000 });
      const { call } = server({ clock, signer });
      const leaves = makeLeaves(20, 'batch');
      const size = async () => (await call('get-sth')).body.tree_size;
      expect(await size()).toBe(0);
      await append(leaves.slice(0, 3));
      expect(await signer.afterAppend()).toBeUndefined();
      expect(await size()).toBe(0); // 3 < 4 and the head is 0 ms old
      await append(leaves.slice(3, 4));
      expect((await signer.afterAppend())?.treeSize).toBe(4);
      await append(leaves.slice(4, 5));
      expect(await signer.tick()).toBeUndefined();
      clock.advance(999);
      expect(await size()).toBe(4);
      clock.advance(1);
      expect(await size()).toBe(5); // get-sth ticks: T elapsed
      await append(leaves.slice(5, 14));
      expect((await signer.tick())?.treeSize).toBe(14); // 9 >= 4: all of them in one head
      expect((await signer.signNow()).treeSize).toBe(14); // nothing new: the latest head
      const rows = await db.query<{ tree_size: string; timestamp: string; root_hash: Uint8Array; signature: Uint8Array }>(
        'SELECT tree_size, timestamp, root_hash, signature FROM ledger_heads ORDER BY tree_size',
      );
      expect(rows.map((r) => [Number(r.tree_size), Number(r.timestamp)])).toEqual([
        [0, 10_000],
        [4, 10_000],
        [5, 11_000],
        [14, 11_000],
      ]);
      for (const r of rows) {
        const n = Number(r.tree_size);
        expect(r.root_hash).toEqual(rootHash(leaves.slice(0, n).map(leafHash)));
        expect(isTreeHeadSignatureValid({ treeSize: n, timestamp: Number(r.timestamp), rootHash: r.root_hash, signature: r.signature }, tracker.publicKeyRaw)).toBe(true);
      }
      expect(codeOf(() => new TreeHeadSigner({ db, store, trackerKey: tracker, clock, batchSize: 0 }))).toBe('LEDGER_BAD_ARGUMENT');
      expect(codeOf(() => new TreeHeadSigner({ db, store, trackerKey: tracker, clock, maxDelayMs: 1.5 }))).toBe('LEDGER_BAD_ARGUMENT');
    });

    it('two tracker processes on one database: each catches up before answering; heads only grow', async () => {
      const clockA = new ManualClock(5_000);
      const clockB = new ManualClock(3_000); // B's clock lags: its heads must still not go back in time
      const a = new TreeHeadSigner({ db, store: new LedgerStore(db), trackerKey: tracker, clock: clockA, batchSize: 3, maxDelayMs: 100_000 });
      const b = new TreeHeadSigner({ db, store: new LedgerStore(db, { pageSize: 4 }), trackerKey: tracker, clock: clockB, batchSize: 3, maxDelayMs: 100_000 });
      const srvB = server({ clock: clockB, signer: b });
      const leaves = makeLeaves(40, 'two');
      let n = 0;
      let covered = 0; // the batching rule: a head once >= 3 entries are uncovered (T never elapses here)
      for (const chunk of [3, 1, 5, 2, 7, 11, 4, 7]) {
        await append(leaves.slice(n, n + chunk));
        n += chunk;
        if (n - covered >= 3) covered = n;
        await Promise.all([a.tick(), b.tick(), a.tick()]);
        const sth = await srvB.call('get-sth');
        expect(sth.body.tree_size).toBe(covered);
        const c = await srvB.call(`get-sth-consistency?first=1&second=${n}`);
        expect(c.status).toBe(200);
      }
      const rows = await db.query<{ tree_size: string; timestamp: string }>('SELECT tree_size, timestamp FROM ledger_heads ORDER BY tree_size');
      const sizes = rows.map((r) => Number(r.tree_size));
      const times = rows.map((r) => Number(r.timestamp));
      expect(sizes).toEqual([...sizes].sort((x, y) => x - y));
      expect(new Set(sizes).size).toBe(sizes.length);
      expect(times).toEqual([...times].sort((x, y) => x - y));
      expect(sizes.at(-1)).toBe(40);
    });

    it('cosign: verifies and stores a witness cosignature, shows it with the head, refuses bad ones', async () => {
      await append(makeLeaves(23, 'cosign'));
      const { app, call } = server();
      const head = headOf((await call('get-sth')).body);
      const witness = testKey(20);
      const body = (h: TreeHead, w = witness, sig = cosignTreeHead(h, w).signature) => ({
        tree_size: h.treeSize,
        timestamp: h.timestamp,
        sha256_root_hash: b64(h.rootHash),
        public_key: b64(w.publicKeyRaw),
        signature: b64(sig),
      });
      const post = (payload: unknown, type = 'application/json') =>
        call('cosign', { method: 'POST', headers: { 'content-type': type }, body: typeof payload === 'string' ? payload : JSON.stringify(payload) });

      expect(await post(body(head))).toEqual({ status: 200, body: { tree_size: 23, key_id: witness.keyId, stored: true } });
      expect((await post(body(head))).body.stored).toBe(false);
      const shown = (await call('get-sth')).body.cosignatures as Json[];
      expect(shown).toEqual([{ key_id: witness.keyId, public_key: b64(witness.publicKeyRaw), signature: b64(cosignTreeHead(head, witness).signature) }]);
      expect(isCosignatureValid(head, { witness: witness.keyId, signature: base64Decode(shown[0]!.signature as string) }, witness.publicKeyRaw)).toBe(true);

      const other = { ...head, treeSize: 22 };
      const bad: [unknown, number, string, string?][] = [
        [body(head, witness, cosignTreeHead(other, witness).signature), 400, 'LEDGER_BAD_SIGNATURE'],
        [{ ...body(head), public_key: b64(testKey(21).publicKeyRaw) }, 400, 'LEDGER_BAD_SIGNATURE'],
        [body(other), 404, 'LEDGER_NOT_FOUND'],
        [body({ ...head, timestamp: head.timestamp + 1 }), 404, 'LEDGER_NOT_FOUND'],
        [body({ ...head, rootHash: emptyRootHash() }), 404, 'LEDGER_NOT_FOUND'],
        ['{"tree_size": 23,', 400, 'LEDGER_BAD_REQUEST'],
        [[], 400, 'LEDGER_BAD_REQUEST'],
        [{ ...body(head), extra: 1 }, 400, 'LEDGER_BAD_REQUEST'],
        [{ ...body(head), signature: undefined }, 400, 'LEDGER_BAD_REQUEST'],
        [{ ...body(head), signature: 'AAAA' }, 400, 'LEDGER_BAD_REQUEST'],
        [{ ...body(head), tree_size: -1 }, 400, 'LEDGER_BAD_REQUEST'],
        [{ ...body(head), tree_size: 1.5 }, 400, 'LEDGER_BAD_REQUEST'],
        [{ ...body(head), sha256_root_hash: 'not base64' }, 400, 'LEDGER_BAD_REQUEST'],
        [body(head), 415, 'TRACKER_UNSUPPORTED_MEDIA', 'text/plain'],
        [{ ...body(head), pad: 'x'.repeat(5000) }, 413, 'TRACKER_BODY_TOO_LARGE'],
      ];
      for (const [payload, status, code, type] of bad) {
        const r = await post(payload, type);
        expect({ status: r.status, code: (r.body.error as Json).code }).toEqual({ status, code });
      }
      // A chunked body with no Content-Length is cut at the limit while it streams,
      // not read whole (issue 25): 413, the connection closed, a bounded prefix read.
      let pulled = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(ctl) {
          pulled += 1024;
          if (pulled > 64 * 1024 * 1024) ctl.close();
          else ctl.enqueue(new Uint8Array(1024).fill(0x20));
        },
      });
      const streamed = await app.request('/ledger/v1/cosign', { method: 'POST', headers: { 'content-type': 'application/json' }, body: endless, duplex: 'half' } as RequestInit);
      expect(streamed.status).toBe(413);
      expect(streamed.headers.get('connection')).toBe('close');
      expect(((await streamed.json()) as { error: Json }).error.code).toBe('TRACKER_BODY_TOO_LARGE');
      expect(pulled).toBeLessThan(64 * 1024);

      // A public key that is not a valid key: 4xx, never 5xx.
      const notKey = await post({ ...body(head), public_key: b64(new Uint8Array(32).fill(0xff)) });
      expect(notKey.status).toBe(400);
      expect(['LEDGER_BAD_KEY', 'LEDGER_BAD_SIGNATURE']).toContain((notKey.body.error as Json).code);

      // At most MAX_COSIGNATURES_PER_HEAD witnesses per head.
      for (let i = 1; i < MAX_COSIGNATURES_PER_HEAD; i++) expect((await post(body(head, testKey(100 + i)))).status).toBe(200);
      const full = await post(body(head, testKey(99)));
      expect({ status: full.status, code: (full.body.error as Json).code }).toEqual({ status: 409, code: 'LEDGER_COSIGNATURES_FULL' });
      expect((await post(body(head))).body.stored).toBe(false); // a stored witness may still resubmit
      expect(((await call('get-sth')).body.cosignatures as Json[]).length).toBe(MAX_COSIGNATURES_PER_HEAD);
    });

    it('property: the store catches up incrementally and its roots and proofs match merkle.ts', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }), fc.nat(), async (chunks, pick) => {
          await resetSchema(db);
          const store = new LedgerStore(db, { pageSize: 7 });
          const all = makeLeaves(chunks.reduce((x, y) => x + y, 0), `prop${run++}`);
          const hashes = all.map(leafHash);
          let n = 0;
          for (const c of chunks) {
            await append(all.slice(n, n + c));
            n += c;
            expect(await store.sync()).toBe(n);
            const prefix = hashes.slice(0, n);
            expect(store.tree.rootHash()).toEqual(rootHash(prefix));
            const i = pick % n;
            expect(store.tree.inclusionProof(i, n)).toEqual(inclusionProof(prefix, i));
            expect(store.tree.consistencyProof(i, n)).toEqual(consistencyProof(prefix, i));
            expect(await store.indexOfLeafHash(hashes[i]!)).toBe(i);
          }
        }),
        { numRuns: 8 },
      );
    });

    it('the store rebuilds when the database shrank, and reports a hole as a 500 without internals', async () => {
      const leaves = makeLeaves(30, 'shrink');
      await append(leaves);
      const store = new LedgerStore(db);
      const signer = new TreeHeadSigner({ db, store, trackerKey: tracker, clock: new ManualClock(1) });
      const { call } = server({ signer });
      expect(await store.sync()).toBe(30);
      await db.query('DELETE FROM ledger_entries WHERE seq >= 20');
      expect(await store.sync()).toBe(20);
      expect(store.rebuilds).toBe(1);
      expect(store.tree.rootHash()).toEqual(rootHash(leaves.slice(0, 20).map(leafHash)));
      await db.query('DELETE FROM ledger_entries WHERE seq = 5');
      const fresh = new LedgerStore(db);
      expect(await codeOfAsync(fresh.sync())).toBe('LEDGER_STORE_CORRUPT');
      // A restarted tracker (fresh store) finds the hole while catching up ...
      const r = await server().call('get-sth-consistency?first=1&second=2');
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: { code: 'TRACKER_INTERNAL', message: expect.any(String) } });
      expect(JSON.stringify(r.body)).not.toMatch(/SELECT|ledger_entries|seq/);
      // ... and a running one when it reads the entries.
      const e = await call('get-entries?start=0&end=10');
      expect(e.status).toBe(500);
    });

    it('concurrent requests share catch-ups and all see every committed entry', async () => {
      const store = new LedgerStore(db, { pageSize: 3 });
      const leaves = makeLeaves(50, 'concurrent');
      await append(leaves.slice(0, 25));
      const first = await Promise.all([store.sync(), store.sync(), store.sync()]);
      expect(first).toEqual([25, 25, 25]);
      await append(leaves.slice(25));
      const second = await Promise.all(Array.from({ length: 6 }, () => store.sync()));
      expect(second).toEqual(Array(6).fill(50));
      expect(store.tree.rootHash()).toEqual(rootHash(leaves.map(leafHash)));
    });
  });
}
