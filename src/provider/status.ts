/**
 * The provider's status line: what the loop (loop.ts) reports on every
 * change, `swarm provide --json` prints, and its local page (src/web/provider,
 * through src/cli/provider-ui.ts) shows. A file of its own, with type-only
 * imports, so the page's browser build reads the same type.
 */
import type { UnitKind } from '../protocol/schemas.ts';

export type ProviderState =
  | 'starting' | 'idle' | 'waiting-for-idle' | 'fetching' | 'running' | 'uploading' | 'resting' | 'backing-off'
  | 'paused' | 'outside-hours' | 'stopped';

export interface ProviderStatusLine {
  state: ProviderState;
  unitId: string | null;
  kind: UnitKind | null;
  progress: number;
  /** results the tracker acknowledged (this process; spooled ones from before a restart included) */
  completed: number;
  failed: number;
  /** results this process computed (each is spooled, then reported) */
  computed: number;
  /** spooled results the tracker refused for good, or unreadable spool files: dropped with a log line */
  dropped: number;
  credit: number | null;
  reputation: number | null;
  message?: string;
}

/** A loop's line before it has done anything (the loop starts from it; the join page shows it for a worker not heard from yet). */
export function startingStatus(): ProviderStatusLine {
  return { state: 'starting', unitId: null, kind: null, progress: 0, completed: 0, failed: 0, computed: 0, dropped: 0, credit: null, reputation: null };
}
