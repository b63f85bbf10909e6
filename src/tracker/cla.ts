/**
 * The contributor licence agreement (issue 20; CLA.md; DESIGN.md
 * "Governance"): which version is current, and who signed it. Each change
 * is one transaction with the ledger entry that records it
 * (storage/migration-cla.ts holds the tables; ledger/cla-book.ts the rules
 * the auditor checks):
 *  - start(doc): the version a tracker is started with (`swarm tracker --cla
 *    FILE`; `swarm up` uses the repository's CLA.md) is published once,
 *    without a decision (cla-published); starting again with another text is
 *    refused (CLA_MISMATCH): a new version is a council decision;
 *  - claDecisionEffect: an enacted `cla` council decision (council.ts
 *    applyEffect) makes its version current (cla-published naming the
 *    decision); signatures of the old version no longer suffice;
 *  - sign: an identity's own cla-signed entry for the current version,
 *    logged once per key and version.
 * The scheduler refuses leases and results of an identity without a
 * signature of the current version (TRACKER_CLA_REQUIRED, scheduler.ts
 * refuseUnsignedCla), inside the queries that read its provider row.
 *
 * Signatures and version changes take one advisory lock, so a signature
 * read against a version is in the log before any later version.
 */
import { utf8Decode } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import { parseEntry, verifyEntrySignature } from '../ledger/entry.ts';
import type { KeyId, LedgerEntry } from '../ledger/entry.ts';
import { MAX_CLA_TEXT_BYTES } from '../protocol/cla.ts';
import type { ClaDocument, ClaSignature, ClaView } from '../protocol/cla.ts';
import { refuseOffClockEntry } from './context.ts';
import type { TrackerContext } from './context.ts';
import type { Statement } from './storage/combine.ts';
import type { Queryable } from './storage/db.ts';

/** Arbitrary 64-bit advisory-lock key for CLA versions and signatures ("SWCLA"). */
const CLA_LOCK_KEY = 0x5357_434c_41n;

/** The current version: the highest n (SQL, no parameters). */
export const CURRENT_CLA_SQL = 'SELECT version, sha256, decision, published_at FROM cla_versions ORDER BY n DESC LIMIT 1';

interface VersionRow {
  version: string;
  sha256: string;
  decision: string | null;
  published_at: string;
}

const lock = (tx: Queryable): Promise<unknown> => tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [CLA_LOCK_KEY.toString()]);

/**
 * The message of TRACKER_CLA_REQUIRED for `version` (scheduler.ts): says
 * how to sign. `swarm provide` adds where to read the text.
 */
export function claRequiredMessage(version: string): string {
  return `this tracker counts work only from identities that signed its contributor licence agreement ${version}; ` +
    'read it (GET /api/cla, or `swarm cla show --tracker URL`) and sign it with this identity: `swarm provide --accept-cla` or `swarm cla sign --tracker URL`';
}

export class Cla {
  constructor(private readonly ctx: TrackerContext) {}

  /**
   * Publishes the version the tracker is started with, if the database has
   * none (logging cla-published without a decision); with one current
   * already, the same version and text are accepted and another refused.
   */
  async start(doc: ClaDocument): Promise<{ published: boolean }> {
    const now = this.ctx.now();
    const appended = await this.ctx.db.transaction(async (tx) => {
      await lock(tx);
      const cur = (await tx.query<VersionRow & Record<string, unknown>>(CURRENT_CLA_SQL))[0];
      if (cur !== undefined) {
        if (cur.version !== doc.version || cur.sha256 !== doc.sha256) {
          throw new SwarmError('CLA_MISMATCH', `this tracker's current CLA is ${cur.version} (sha256 ${cur.sha256}); the file given is ${doc.version} (sha256 ${doc.sha256}). A new CLA version is a council decision (swarm council propose cla --cla-file FILE), so start with the current version's text or without --cla`, { version: cur.version, sha256: cur.sha256 });
        }
        await tx.query('UPDATE cla_versions SET text = $2 WHERE version = $1 AND text IS NULL', [doc.version, doc.text]);
        return -1;
      }
      await tx.query('INSERT INTO cla_versions (version, n, sha256, text, decision, published_at) VALUES ($1, 1, $2, $3, NULL, $4)', [doc.version, doc.sha256, doc.text, now]);
      return this.ctx.append(tx, [this.ctx.sign('cla-published', { version: doc.version, sha256: doc.sha256 }, now)], now);
    });
    if (appended < 0) return { published: false };
    await this.ctx.committed(appended);
    return { published: true };
  }

  /** GET /api/cla: the current version, with its text when the tracker has it (given at start, or uploaded as a blob). */
  async view(): Promise<ClaView> {
    const rows = await this.ctx.db.query<VersionRow & { text: Uint8Array | null } & Record<string, unknown>>(
      `SELECT v.version, v.sha256, v.decision, v.published_at,
              COALESCE(v.text, (SELECT d.bytes FROM blob_data d JOIN blobs b ON b.sha256 = d.sha256 WHERE d.sha256 = v.sha256 AND b.size <= $1)) AS text
         FROM cla_versions v ORDER BY v.n DESC LIMIT 1`,
      [MAX_CLA_TEXT_BYTES],
    );
    const r = rows[0];
    if (r === undefined) return { required: false };
    let text: string | undefined;
    try {
      text = r.text === null ? undefined : utf8Decode(new Uint8Array(r.text));
    } catch {
      text = undefined; // a blob with that hash that is not text: serve the hash only
    }
    return { required: true, version: r.version, sha256: r.sha256, decision: r.decision, publishedAt: Number(r.published_at), ...(text === undefined ? {} : { text }) };
  }

  /**
   * An identity's signature: `raw` is its cla-signed entry and `signer` the
   * request's verified signer (a registered provider or a trainer), which
   * must be the entry's actor; the entry must name the current version and
   * its hash. Logged once per key and version (a second signature of the
   * same version changes nothing: created false).
   */
  async sign(signer: { keyId: KeyId; publicKey: Uint8Array }, raw: unknown): Promise<ClaSignature> {
    const entry = parseEntry(raw);
    if (entry.kind !== 'cla-signed' || entry.actor !== signer.keyId) {
      throw new SwarmError('CLA_BAD_ENTRY', 'send a cla-signed entry signed by the key that signs the request');
    }
    verifyEntrySignature(entry, signer.publicKey);
    const now = this.ctx.now();
    refuseOffClockEntry(entry.time, now, 'CLA_BAD_ENTRY', 'the signature');
    const b = entry.body;
    const done = await this.ctx.db.transaction(async (tx) => {
      await lock(tx);
      if (!this.ctx.isTrainer(signer.keyId) && (await tx.query('SELECT 1 FROM providers WHERE key_id = $1', [signer.keyId])).length === 0) {
        throw new SwarmError('TRACKER_UNKNOWN_PROVIDER', 'this key is not a registered provider; register first (POST /api/providers)');
      }
      const cur = (await tx.query<VersionRow & Record<string, unknown>>(CURRENT_CLA_SQL))[0];
      if (cur === undefined) throw new SwarmError('CLA_NOT_REQUIRED', 'this tracker has no contributor licence agreement to sign');
      if (b.version !== cur.version || b.sha256 !== cur.sha256) {
        throw new SwarmError('CLA_WRONG_VERSION', `the current CLA is ${cur.version} (sha256 ${cur.sha256}), not ${b.version} (sha256 ${b.sha256}); read it (GET /api/cla) and sign that`, { version: cur.version, sha256: cur.sha256 });
      }
      const earlier = await tx.query<{ signed_at: string }>('SELECT signed_at FROM cla_signatures WHERE key_id = $1 AND version = $2', [signer.keyId, b.version]);
      if (earlier.length > 0) return { signedAt: Number(earlier[0]!.signed_at), appended: 0 };
      await tx.query('INSERT INTO cla_signatures (key_id, version, public_key, signed_at) VALUES ($1, $2, $3, $4)', [signer.keyId, b.version, signer.publicKey, now]);
      return { signedAt: now, appended: await this.ctx.append(tx, [entry], now) };
    });
    await this.ctx.committed(done.appended);
    return { keyId: signer.keyId, version: b.version, sha256: b.sha256, signedAt: done.signedAt, created: done.appended > 0 };
  }

}

/**
 * SQL scalar: the current CLA version if the key `key` (an SQL expression)
 * has not signed it, else NULL (also when no CLA is current). What the
 * scheduler folds into the queries that read a provider's row.
 */
export function missingClaSql(key: string): string {
  return `SELECT c.version FROM (SELECT version FROM cla_versions ORDER BY n DESC LIMIT 1) c
           WHERE NOT EXISTS (SELECT 1 FROM cla_signatures s WHERE s.key_id = ${key} AND s.version = c.version)`;
}

/**
 * The effect of an enacted `cla` council decision (council.ts applyEffect):
 * `version` with text hash `sha256` becomes current, logged as cla-published
 * naming the decision. A version id used before is refused
 * (COUNCIL_NOT_APPLICABLE: a new text needs a new id).
 */
export async function claDecisionEffect(ctx: TrackerContext, tx: Queryable, decision: string, version: string, sha256: string, now: number): Promise<{ statements: Statement[]; entries: LedgerEntry[] }> {
  await lock(tx);
  if ((await tx.query('SELECT 1 FROM cla_versions WHERE version = $1', [version])).length > 0) {
    throw new SwarmError('COUNCIL_NOT_APPLICABLE', `CLA version ${version} was published before; a new text needs a new version id`, { decision, version });
  }
  return {
    statements: [{
      sql: 'INSERT INTO cla_versions (version, n, sha256, text, decision, published_at) VALUES ($1, (SELECT COALESCE(max(n), 0) + 1 FROM cla_versions), $2, NULL, $3, $4)',
      params: [version, sha256, decision, now],
    }],
    entries: [ctx.sign('cla-published', { version, sha256, decision }, now)],
  };
}
