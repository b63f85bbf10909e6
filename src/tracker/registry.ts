/**
 * Who may talk to the tracker: registered providers (BOINC's host table)
 * and the trainers named at start. Registration appends the identity's own
 * signed provider-registered entry to the ledger, once per key.
 */
import { base64Encode, bytesEqual } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import { parseEntry, registeredPublicKey, verifyEntrySignature } from '../ledger/entry.ts';
import type { RegisterProviderRequest } from '../protocol/schemas.ts';
import type { TrackerContext } from './context.ts';
import { newProviderRecord } from './validation/adaptive.ts';

/** How many known keys the early-refusal cache holds before it starts again. */
const KNOWN_KEYS_CACHE = 65_536;

export class ProviderRegistry {
  /** Keys seen registered: a provider row is never deleted, so a yes stays true (no is always asked again). */
  private readonly knownProviders = new Set<string>();

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
   * Registers (or updates) a provider. `signer` is the verified request
   * signer; the provider-registered entry must be signed by that same key,
   * name that key, and carry the same name. The first registration appends
   * the entry; later ones update name, team and capabilities only.
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
    let appended = 0;
    const created = await this.ctx.db.transaction(async (tx) => {
      const existing = await tx.query('SELECT key_id FROM providers WHERE key_id = $1 FOR UPDATE', [signer.keyId]);
      if (existing.length > 0) {
        await tx.query('UPDATE providers SET name = $2, team = $3, threads = $4, memory_bytes = $5, last_seen = $6 WHERE key_id = $1', [
          signer.keyId, req.name, req.team ?? null, req.capabilities.threads, req.capabilities.memoryBytes, now,
        ]);
        return false;
      }
      await tx.query(
        `INSERT INTO providers (key_id, public_key, name, team, created_at, threads, memory_bytes, last_seen, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $5, $8)`,
        [signer.keyId, signer.publicKey, req.name, req.team ?? null, now, req.capabilities.threads, req.capabilities.memoryBytes, JSON.stringify(newProviderRecord(signer.keyId))],
      );
      appended = await this.ctx.append(tx, [entry], now);
      return true;
    });
    await this.ctx.committed(appended);
    return { providerId: signer.keyId, created };
  }
}
