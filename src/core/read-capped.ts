/**
 * Reads a request body with a byte cap: the declared Content-Length is
 * checked first, then the running count while reading, so a chunked upload
 * cannot get past the cap either (the reader is cancelled at once). Shared by
 * the gateway and the tracker, which answer an oversized body with their own
 * coded 413.
 */
import { concatArrays } from './concat.ts';

export async function readCappedBody(req: Request, maxBytes: number, tooLarge: () => Error): Promise<Uint8Array> {
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge();
  if (req.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return concatArrays(Uint8Array, chunks);
}
