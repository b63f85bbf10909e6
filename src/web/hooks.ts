/**
 * useApi: a page's read of one API path, optionally polled (the live pages
 * poll every 2 s; the tracker answers them from one shared, cached
 * computation, src/tracker/stats.ts). Polling pauses while the tab is hidden
 * and resumes when it is shown, so a forgotten tab costs nothing.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, isNotFound } from './api.ts';

export interface ApiState<T> {
  data: T | undefined;
  error: ApiError | undefined;
}

export function useApi<T>(path: string | null, pollMs?: number): ApiState<T> {
  const [state, setState] = useState<ApiState<T>>({ data: undefined, error: undefined });
  useEffect(() => {
    setState({ data: undefined, error: undefined });
    if (path === null) return undefined;
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (): Promise<void> => {
      try {
        const data = await getJson<T>(path, ctl.signal);
        if (!ctl.signal.aborted) setState({ data, error: undefined });
      } catch (e) {
        if (ctl.signal.aborted) return;
        const error = e instanceof ApiError ? e : new ApiError(0, 'CLIENT', e instanceof Error ? e.message : String(e));
        setState((s) => ({ data: s.data, error }));
        // a thing that does not exist will not appear by asking again every 2 s
        if (isNotFound(error)) return;
      }
      if (pollMs !== undefined && !ctl.signal.aborted) timer = setTimeout(tick, pollMs);
    };
    const tick = (): void => {
      if (document.hidden) return; // resumed by visibilitychange
      void load();
    };
    const onVisible = (): void => {
      if (!document.hidden && pollMs !== undefined) {
        clearTimeout(timer);
        void load();
      }
    };
    document.addEventListener('visibilitychange', onVisible);
    void load();
    return () => {
      ctl.abort();
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [path, pollMs]);
  return state;
}
