/**
 * The browser provider's identity (issue 18; DESIGN.md, "Identity and
 * security"): an Ed25519 key made in this browser on the first Join and
 * kept in IndexedDB, as `swarm provide` keeps its key in ~/.swarm (mode
 * 0600). Only the 32-byte seed is stored; the key pair is rebuilt from it
 * (ledger/keys.browser.ts). The seed comes from WebCrypto's CSPRNG.
 */
import { ED25519_SEED_BYTES } from '../../ledger/keys.ts';
import { STORE_IDENTITY, committed, done } from './idb.ts';

const SEED_KEY = 'seed';

/** This origin's seed, made and stored on first use. */
export async function loadOrCreateSeed(db: IDBDatabase): Promise<{ seed: Uint8Array; created: boolean }> {
  const have = await done(db.transaction(STORE_IDENTITY, 'readonly').objectStore(STORE_IDENTITY).get(SEED_KEY)) as unknown;
  if (have instanceof Uint8Array && have.length === ED25519_SEED_BYTES) return { seed: have, created: false };
  const seed = crypto.getRandomValues(new Uint8Array(ED25519_SEED_BYTES));
  const tx = db.transaction(STORE_IDENTITY, 'readwrite');
  // add, not put: when two tabs race on the first Join, the second fails and reads the first's seed
  tx.objectStore(STORE_IDENTITY).add(seed, SEED_KEY);
  try {
    await committed(tx);
  } catch {
    const again = await done(db.transaction(STORE_IDENTITY, 'readonly').objectStore(STORE_IDENTITY).get(SEED_KEY)) as unknown;
    if (again instanceof Uint8Array && again.length === ED25519_SEED_BYTES) return { seed: again, created: false };
    throw new Error('could not store this browser\'s identity in IndexedDB');
  }
  return { seed, created: true };
}
