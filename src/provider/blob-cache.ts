/**
 * The provider's cache of content-addressed blobs (parameters, optimizer
 * states, data shards): a unit's inputs are fetched once per provider, not
 * once per unit. Entries are files named by their SHA-256 under a directory
 * (or kept in memory); a read re-hashes the bytes, so a corrupted or
 * tampered cache file is dropped and fetched again rather than used.
 * Eviction: least recently used beyond `maxBytes`.
 *
 * This file is environment-neutral (the browser provider imports the
 * interface); the files-on-disk cache is ./disk-blob-cache.ts and the
 * browser's IndexedDB one src/web/join/idb-blob-cache.ts.
 */
import { sha256Hex } from '../core/sha256.ts';

export interface BlobCache {
  get(sha: string): Promise<Uint8Array | null>;
  put(sha: string, bytes: Uint8Array): Promise<void>;
}

export class MemoryBlobCache implements BlobCache {
  private readonly map = new Map<string, Uint8Array>();
  private bytes = 0;
  constructor(private readonly maxBytes = 1024 * 1024 * 1024) {}

  async get(sha: string): Promise<Uint8Array | null> {
    const b = this.map.get(sha);
    if (b === undefined) return null;
    this.map.delete(sha);
    this.map.set(sha, b); // most recently used last
    // A copy: the sandbox transfers (detaches) the arrays it is given.
    return b.slice();
  }

  async put(sha: string, bytes: Uint8Array): Promise<void> {
    if (this.map.has(sha) || sha256Hex(bytes) !== sha) return;
    this.map.set(sha, bytes);
    this.bytes += bytes.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes || k === sha) break;
      this.map.delete(k);
      this.bytes -= v.length;
    }
  }
}
