/**
 * The Node provider's blob cache on disk (./blob-cache.ts has the contract):
 * one file per blob, named by its SHA-256, under a directory; a read
 * re-hashes the bytes, so a corrupted or tampered file is dropped and
 * fetched again; eviction is least recently used (by mtime) beyond maxBytes.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../core/sha256.ts';
import type { BlobCache } from './blob-cache.ts';

const HASH_RE = /^[0-9a-f]{64}$/;

export class DiskBlobCache implements BlobCache {
  constructor(private readonly dir: string, private readonly maxBytes = 4 * 1024 * 1024 * 1024) {}

  async get(sha: string): Promise<Uint8Array | null> {
    if (!HASH_RE.test(sha)) return null;
    const path = join(this.dir, sha);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await fs.readFile(path));
    } catch {
      return null;
    }
    if (sha256Hex(bytes) !== sha) {
      await fs.rm(path, { force: true });
      return null;
    }
    const now = new Date();
    await fs.utimes(path, now, now).catch(() => undefined);
    return bytes;
  }

  async put(sha: string, bytes: Uint8Array): Promise<void> {
    if (!HASH_RE.test(sha) || sha256Hex(bytes) !== sha) return;
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = join(this.dir, `.${sha}.${process.pid}.tmp`);
    await fs.writeFile(tmp, bytes, { mode: 0o600 });
    await fs.rename(tmp, join(this.dir, sha)); // atomic: readers never see half a file
    await this.evict();
  }

  private async evict(): Promise<void> {
    const names = (await fs.readdir(this.dir)).filter((n) => HASH_RE.test(n));
    const stats = await Promise.all(names.map(async (n) => ({ n, s: await fs.stat(join(this.dir, n)).catch(() => null) })));
    const live = stats.filter((x) => x.s !== null).sort((a, b) => a.s!.mtimeMs - b.s!.mtimeMs);
    let total = live.reduce((t, x) => t + x.s!.size, 0);
    for (const x of live) {
      if (total <= this.maxBytes) break;
      await fs.rm(join(this.dir, x.n), { force: true });
      total -= x.s!.size;
    }
  }
}
