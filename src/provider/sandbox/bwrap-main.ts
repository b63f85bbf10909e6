/**
 * Inside the bubblewrap sandbox: read the whole request from stdin
 * (./framing.ts), run the unit, write progress frames and then one RESULT or
 * ERROR frame to stdout, exit. stdout is written with blocking writeSync on
 * fd 1 so a frame is never interleaved with anything, and nothing else
 * writes there (bwrap-entry.mjs sends console output to stderr).
 */
import { writeSync } from 'node:fs';
import { concatArrays } from '../../core/concat.ts';
import { runUnit } from '../../train/work/run-unit.ts';
import { decodeRequest, errorFrame, progressFrame, resultFrame } from './framing.ts';
import { toWireError } from './sandbox.ts';
import { createUnitEngine } from './unit-engine.ts';

function writeAll(bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) {
    try {
      at += writeSync(1, bytes, at, bytes.length - at);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EAGAIN') throw e;
    }
  }
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of process.stdin) chunks.push(c as Uint8Array);
  return concatArrays(Uint8Array, chunks);
}

try {
  const req = decodeRequest(await readStdin());
  const engine = await createUnitEngine(req.backend, req.threads, req.memoryMb);
  try {
    const out = runUnit(engine, req.spec, (h) => req.blobs.get(h), (f) => writeAll(progressFrame(f)));
    writeAll(resultFrame(out));
  } finally {
    engine.backend.close();
  }
} catch (e) {
  writeAll(errorFrame(toWireError(e)));
  process.exit(1);
}
// Every frame is written (synchronously); leave without waiting for stray handles.
process.exit(0);
