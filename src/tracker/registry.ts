/**
 * Who may talk to the tracker: registered providers (BOINC's host table)
 * and the trainers named at start.
 *
 * The identity's own signed provider-registered entry goes to the ledger
 * once per key — but not at registration (issue 25, "Sybil resistance"):
 * it waits in the provider's row (providers.registration, migration 9) and
 * is appended when the identity first asks for work (recordRegistration,
 * called by the service before every work request; after the first, a Set
 * lookup). So a flood of identities that never work leaves nothing in the
 * permanent log, only rows in the providers table, which rate limits and
 * the proof of work bound and which the leaderboard does not show.
 *
 * Why the first work request and not the first verified result: `swarm
 * audit` (ledger/audit.ts) requires a provider's registration before any
 * unit-issued entry naming it and before any result-submitted entry it
 * signs (their signatures are checked with the registered key), and those
 * are written when a unit is leased and when a result comes in. Deferring
 * the registration further would mean deferring those entries too. The
 * registration is appended in its own transaction that commits before the
 * work request's, so it always precedes the identity's first unit-issued.
 * (A tighter hook: the scheduler could append pendingRegistrationEntry()'s
 * entry in the lease's own transaction, only when a unit is actually
 * issued; then an identity that asks for work but never gets any stays out
 * of the log too.)
 */
import { base64Encode, bytesEqual } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import { decodeEntry, encodeEntry, parseEntry, registeredPublicKey, verifyEntrySignature } from '../ledger/entry.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import type { Queryable } from './storage/db.ts';
import type { RegisterProviderRequest } from '../protocol/schemas.ts';
import type { TrackerContext } from './context.ts';
import { newProviderRecord } from './validation/adaptive.ts';

/** How many known keys the early-refusal cache holds before it starts again. */
const KNOWN_KEYS_CACHE = 65_536;

export class ProviderRegistry {
  /** Keys seen registered: a provider row is never deleted, so a yes stays true (no is always asked again). */
  private readonly knownProviders = new Set<string>();
  /** Keys whose registration is in the log (it never leaves it): no query for them on later work requests. */
  private readonly logged = new Set<string>();

  constructor(private readonly ctx: TrackerContext) {}

  /**
   * Whether `keyId` is a trainer or a registered provider: the HTTP layer's
   * check before it reads a body (issue 25). The service's own checks stay
   * authoritative; this one only lets junk be refused early. Positive
   * answers are cached (one indexed lookup per new key, none afterwards),
   * and the cache is bounded.
   */
  async isKnownKey(keyId: string): Promise<boolean> {
    if (this.ctx.trainers.has(keyId) || this.knownProviders.has(keyId)) return true;
    const rows = await this.ctx.db.query('SELECT 1 FROM providers WHERE key_id = $1', [keyId]);
    if (rows.length === 0) return false;
    if (this.knownProviders.size >= KNOWN_KEYS_CACHE) this.knownProviders.clear();
    this.knownProviders.add(keyId);
    return true;
  }


  /**
   * The provider's registration entry if it is not in the log yet, marked
   * as logged in `tx` (the row is locked): the caller appends it in the same
   * transaction. Empty when it is logged already or the key is unknown.
   */
  async pendingRegistrationEntry(tx: Queryable, keyId: string): Promise<LedgerEntry[]> {
    const rows = await tx.query<{ registration: Uint8Array }>(
      `UPDATE providers p SET registration = NULL
         FROM (SELECT key_id, registration FROM providers WHERE key_id = $1 AND registration IS NOT NULL FOR UPDATE) old
        WHERE p.key_id = old.key_id
        RETURNING old.registration`,
      [keyId],
    );
    return rows.length === 0 ? [] : [decodeEntry(rows[0]!.registration)];
  }

  /**
   * Appends the provider's registration to the ledger if it is still
   * waiting (see the file comment); resolves once it is in the log. Call
   * before anything that may write a ledger entry naming the provider.
   */
  async recordRegistration(keyId: string): Promise<void> {
    if (this.logged.has(keyId)) return;
    const now = this.ctx.now();
    const appended = await this.ctx.db.transaction(async (tx) => this.ctx.append(tx, await this.pendingRegistrationEntry(tx, keyId), now));
    await this.ctx.committed(appended);
    if (this.logged.size >= KNOWN_KEYS_CACHE) this.logged.clear();
    this.logged.add(keyId);
  }

  /**
   * Registers (or updates) a provider. `signer` is the verified request
   * signer; the provider-registered entry must be signed by that same key,
   * name that key, and carry the same name. The first registration stores
   * the entry to be logged on the first work request (recordRegistration);
   * later ones update name, team, capabilities and client, and the waiting
   * entry (so the one logged carries the current name) if it is still
   * waiting. The client (kind and engine, issue 18) is what this
   * registration says: none makes it unknown again (NULL), since the key
   * may now run an older client than the one that said it before.
   */
  async registerProvider(signer: { keyId: string; publicKey: Uint8Array }, req: RegisterProviderRequest): Promise<{ providerId: string; created: boolean }> {
    const entry = parseEntry(req.entry);
    if (entry.kind !== 'provider-registered') throw new SwarmError('TRACKER_BAD_REQUEST', 'entry must be a provider-registered entry');
    const pk = registeredPublicKey(entry);
    if (!bytesEqual(pk, signer.publicKey) || entry.actor !== signer.keyId) throw new SwarmError('TRACKER_FORBIDDEN', 'the entry must register the key that signs the request');
    if (req.publicKey !== undefined && base64Encode(signer.publicKey) !== base64Encode(pk)) throw new SwarmError('TRACKER_FORBIDDEN', 'publicKey must be the signing key');
    if ((entry.body.name ?? null) !== req.name) throw new SwarmError('TRACKER_BAD_REQUEST', 'the entry must carry the same name as the request');
    verifyEntrySignature(entry, pk);
    const now = this.ctx.now();
    const encoded = encodeEntry(entry);
    const clientKind = req.client?.kind ?? null;
    const clientEngine = req.client?.engine ?? null;
    const created = await this.ctx.db.transaction(async (tx) => {
      const existing = await tx.query('SELECT key_id FROM providers WHERE key_id = $1 FOR UPDATE', [signer.keyId]);
      if (existing.length > 0) {
        await tx.query(
          `UPDATE providers SET name = $2, team = $3, threads = $4, memory_bytes = $5, last_seen = $6,
                  registration = CASE WHEN registration IS NULL THEN NULL ELSE $7::bytea END,
                  client_kind = $8, client_engine = $9
            WHERE key_id = $1`,
          [signer.keyId, req.name, req.team ?? null, req.capabilities.threads, req.capabilities.memoryBytes, now, encoded, clientKind, clientEngine],
        );
        return false;
      }
      await tx.query(
        `INSERT INTO providers (key_id, public_key, name, team, created_at, threads, memory_bytes, last_seen, record, registration, client_kind, client_engine)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $5, $8, $9, $10, $11)`,
        [signer.keyId, signer.publicKey, req.name, req.team ?? null, now, req.capabilities.threads, req.capabilities.memoryBytes, JSON.stringify(newProviderRecord(signer.keyId)), encoded, clientKind, clientEngine],
      );
      return true;
    });
    return { providerId: signer.keyId, created };
  }
}
