/**
 * Server-sent events framing (WHATWG HTML, "Server-sent events", §9.2): an
 * event is one or more "data:" lines ended by a blank line; a data value may
 * not contain a newline, so multi-line text goes out as several data lines,
 * which the client joins with "\n". OpenAI streams JSON chunks this way and
 * ends with the literal `data: [DONE]` (OpenAI API reference, streaming).
 */
const encoder = new TextEncoder();

/** One SSE event carrying `data`. */
export function sseEvent(data: string): Uint8Array {
  return encoder.encode(`${data.split(/\r\n|\r|\n/).map((l) => `data: ${l}`).join('\n')}\n\n`);
}

/** One SSE event carrying `value` as JSON (JSON.stringify never emits raw newlines). */
export function sseJson(value: unknown): Uint8Array {
  return sseEvent(JSON.stringify(value));
}

export const SSE_DONE = sseEvent('[DONE]');

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // tells nginx-style proxies not to buffer the stream
  'x-accel-buffering': 'no',
} as const;
