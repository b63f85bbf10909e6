/**
 * Reads a JSON request body with a byte cap. The cap is checked against
 * Content-Length first and then while reading, so a chunked upload cannot
 * get past it (413, as OpenAI answers oversized requests).
 */
import { SwarmError } from '../core/errors.ts';
import { readCappedBody } from '../core/read-capped.ts';

export async function readJsonBody(req: Request, maxBytes: number): Promise<unknown> {
  const tooLarge = (): SwarmError =>
    new SwarmError('GATEWAY_BODY_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`);
  const bytes = await readCappedBody(req, maxBytes, tooLarge);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SwarmError('GATEWAY_BAD_JSON', 'the request body is not UTF-8');
  }
  if (text.trim() === '') throw new SwarmError('GATEWAY_BAD_JSON', 'the request body is empty; send a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new SwarmError('GATEWAY_BAD_JSON', `the request body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}
