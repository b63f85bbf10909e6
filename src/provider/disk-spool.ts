/**
 * The result spool on disk (spool.ts has the contract and the file format):
 * one file per unit under the provider's state directory, written to a
 * temporary name, fsynced and renamed, so a crash leaves either the whole
 * file or none; an unreadable file is reported and deleted.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { utf8Encode } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import { sha256Hex } from '../core/sha256.ts';
import { MAX_SPOOL_FILE_BYTES, decodeSpoolFile, encodeSpoolFile } from './spool.ts';
import type { ResultSpool, SpooledResult } from './spool.ts';

export class DiskResultSpool implements ResultSpool {
  /** @param onCorrupt told of every spool file that was discarded as unreadable */
  constructor(private readonly dir: string, private readonly onCorrupt: (file: string, e: SwarmError) => void = () => undefined) {}

  private path(unitId: string): string {
    return join(this.dir, `${sha256Hex(utf8Encode(unitId))}.spool`);
  }

  async put(r: SpooledResult): Promise<void> {
    const bytes = encodeSpoolFile(r);
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const final = this.path(r.unitId);
    const tmp = `${final}.${process.pid}.tmp`;
    const h = await fs.open(tmp, 'w', 0o600);
    try {
      await h.writeFile(bytes);
      await h.sync(); // durable before it counts as spooled: a crash right after must not lose it
    } finally {
      await h.close();
    }
    await fs.rename(tmp, final);
  }

  async list(): Promise<SpooledResult[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new SwarmError('PROVIDER_SPOOL_IO', `cannot read the spool ${this.dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    const out: SpooledResult[] = [];
    for (const n of names.sort()) {
      const file = join(this.dir, n);
      if (n.endsWith('.tmp')) {
        // a write a crash interrupted (never renamed, so never spooled); not ours if another live process writes it
        if (!n.endsWith(`.${process.pid}.tmp`)) await fs.rm(file, { force: true }).catch(() => undefined);
        continue;
      }
      if (!n.endsWith('.spool')) continue;
      try {
        const st = await fs.stat(file);
        if (!st.isFile()) throw new SwarmError('PROVIDER_SPOOL_CORRUPT', 'spooled result is corrupt: not a regular file');
        if (st.size > MAX_SPOOL_FILE_BYTES) throw new SwarmError('PROVIDER_SPOOL_CORRUPT', `spooled result is corrupt: ${st.size} bytes is more than any result`);
        const r = decodeSpoolFile(new Uint8Array(await fs.readFile(file)));
        if (this.path(r.unitId) !== file) throw new SwarmError('PROVIDER_SPOOL_CORRUPT', 'spooled result is corrupt: its name does not match its unit');
        out.push(r);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile
        const err = e instanceof SwarmError ? e : new SwarmError('PROVIDER_SPOOL_CORRUPT', `spooled result is unreadable: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        this.onCorrupt(file, err);
        await fs.rm(file, { recursive: true, force: true }).catch(() => undefined);
      }
    }
    return out.sort((a, b) => a.spooledAt - b.spooledAt);
  }

  async remove(unitId: string): Promise<void> {
    await fs.rm(this.path(unitId), { force: true });
  }
}
