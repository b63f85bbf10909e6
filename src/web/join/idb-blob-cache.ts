/**
 * The browser provider's blob cache (issue 18): the same contract as the
 * Node provider's (provider/blob-cache.ts BlobCache) over IndexedDB, shared
 * by every provider worker of this origin. A read re-hashes the bytes, so a
 * corrupted or tampered entry is dropped and fetched again rather than
 * used; a put of bytes that do not hash to their name is ignored.
 * Eviction: least recently used beyond maxBytes (default 256 MiB), from a
 * small metadata store so that eviction never reads the blobs themselves.
 */
import type { Clock } from '../../core/clock.ts';
import { sha256Hex } from '../../core/sha256.ts';
import type { BlobCache } from '../../provider/blob-cache.ts';
import { STORE_BLOBS, STORE_BLOB_META, committed, done } from './idb.ts';

export const DEFAULT_BROWSER_CACHE_BYTES = 256 * 2 ** 20;
const HASH_RE = /^[0-9a-f]{64}$/;

interface Meta {
  size: number;
  usedAt: number;
}

export class IdbBlobCache implements BlobCache {
  constructor(
    private readonly db: IDBDatabase,
    private readonly clock: Clock,
    readonly maxBytes = DEFAULT_BROWSER_CACHE_BYTES,
  ) {}

  async get(sha: string): Promise<Uint8Array | null> {
    if (!HASH_RE.test(sha)) return null;
    const raw = await done(this.db.transaction(STORE_BLOBS, 'readonly').objectStore(STORE_BLOBS).get(sha)) as unknown;
    if (!(raw instanceof Uint8Array)) return null;
    if (sha256Hex(raw) !== sha) {
      await this.remove([sha]);
      return null;
    }
    const tx = this.db.transaction(STORE_BLOB_META, 'readwrite');
    tx.objectStore(STORE_BLOB_META).put({ size: raw.length, usedAt: this.clock.now() } satisfies Meta, sha);
    await committed(tx).catch(() => undefined); // recency is best effort
    return raw;
  }

  async put(sha: string, bytes: Uint8Array): Promise<void> {
    if (!HASH_RE.test(sha) || sha256Hex(bytes) !== sha) return;
    if (bytes.length > this.maxBytes) return; // would evict everything and still not fit
    const tx = this.db.transaction([STORE_BLOBS, STORE_BLOB_META], 'readwrite');
    // a copy: the sandbox transfers (detaches) the arrays it is given
    tx.objectStore(STORE_BLOBS).put(bytes.slice(), sha);
    tx.objectStore(STORE_BLOB_META).put({ size: bytes.length, usedAt: this.clock.now() } satisfies Meta, sha);
    await committed(tx);
    await this.evict(sha);
  }

  /** Bytes held, by the metadata. */
  async size(): Promise<number> {
    return (await this.metas()).reduce((t, m) => t + m.meta.size, 0);
  }

  private async metas(): Promise<{ sha: string; meta: Meta }[]> {
    const store = this.db.transaction(STORE_BLOB_META, 'readonly').objectStore(STORE_BLOB_META);
    const [keys, values] = await Promise.all([done(store.getAllKeys()), done(store.getAll())]);
    return keys.map((k, i) => ({ sha: String(k), meta: values[i] as Meta }));
  }

  private async evict(keep: string): Promise<void> {
    const all = (await this.metas()).sort((a, b) => a.meta.usedAt - b.meta.usedAt);
    let total = all.reduce((t, m) => t + m.meta.size, 0);
    const drop: string[] = [];
    for (const m of all) {
      if (total <= this.maxBytes) break;
      if (m.sha === keep) continue;
      drop.push(m.sha);
      total -= m.meta.size;
    }
    if (drop.length > 0) await this.remove(drop);
  }

  private async remove(shas: readonly string[]): Promise<void> {
    const tx = this.db.transaction([STORE_BLOBS, STORE_BLOB_META], 'readwrite');
    for (const s of shas) {
      tx.objectStore(STORE_BLOBS).delete(s);
      tx.objectStore(STORE_BLOB_META).delete(s);
    }
    await committed(tx);
  }
}
