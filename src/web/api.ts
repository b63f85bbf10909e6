/**
 * Reading the tracker's JSON API from a page: one helper, so every page
 * gets the tracker's coded errors ({error: {code, message}}, src/tracker/
 * http/errors.ts) as an ApiError it can turn into a view (a 404 into the
 * not-found page, anything else into an error line).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** Codes that mean "no such thing" (a provider that never registered answers 403 TRACKER_UNKNOWN_PROVIDER). */
const NOT_FOUND_CODES = new Set(['TRACKER_NOT_FOUND', 'LEDGER_NOT_FOUND', 'TRACKER_UNKNOWN_PROVIDER', 'BLOB_NOT_FOUND']);

export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 404 || NOT_FOUND_CODES.has(e.code) || e.code === 'TRACKER_BAD_REQUEST');
}

/** GET `path` as JSON; throws ApiError with the tracker's code, or HTTP_<status> / NETWORK. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, ...(signal === undefined ? {} : { signal }) });
  } catch (e) {
    if (signal?.aborted === true) throw e;
    throw new ApiError(0, 'NETWORK', 'the tracker cannot be reached');
  }
  const body = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    throw new ApiError(res.status, typeof err?.code === 'string' ? err.code : `HTTP_${res.status}`, typeof err?.message === 'string' ? err.message : res.statusText);
  }
  return body as T;
}

/** A query string from the defined values, e.g. "?kind=verdict". */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
