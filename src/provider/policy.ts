/**
 * The owner's policy for a provider (DESIGN.md: "Obeys the owner's policy:
 * --threads, --max-cpu, --idle-only, hours"), as one value the loop reads
 * before every unit and the local page (src/cli/provider-ui.ts) changes live.
 *
 * Hours are a window of the local day, [from, to): `22-7` works from 22:00
 * until 07:00 the next morning (it wraps past midnight), `9-17` during office
 * hours, `0-24` at any time. Local time is the machine's own (Date's local
 * hour of the injected clock's milliseconds), as BOINC's "compute only
 * between" preference is. No node: module here: the browser page imports
 * these helpers too.
 */
import { SwarmError } from '../core/errors.ts';

export interface HoursWindow {
  /** first hour of the window, 0..23 */
  from: number;
  /** hour the window ends (exclusive), 0..24 (0-24: all day); from === to is refused */
  to: number;
}

export interface ProviderPolicy {
  threads: number;
  /** 1..100: per cent of CPU time, as a duty cycle */
  maxCpu: number;
  /** work only while the rest of the machine is idle */
  idleOnly: boolean;
  /** work only during these hours of the local day; null: at any time */
  hours: HoursWindow | null;
}

export const MAX_THREADS = 256;

/** Throws PROVIDER_BAD_POLICY unless `h` is a window of whole hours with from !== to. */
export function checkHours(h: HoursWindow): HoursWindow {
  const ok = Number.isInteger(h.from) && Number.isInteger(h.to) && h.from >= 0 && h.from <= 23 && h.to >= 0 && h.to <= 24 && h.from !== h.to;
  if (!ok) throw new SwarmError('PROVIDER_BAD_POLICY', 'hours must be FROM-TO, whole hours with FROM in 0..23, TO in 0..24 and FROM ≠ TO (e.g. 22-7)', { from: h.from, to: h.to });
  return { from: h.from, to: h.to };
}

/** Checks every field (PROVIDER_BAD_POLICY names the first bad one); returns a copy. */
export function checkPolicy(p: ProviderPolicy): ProviderPolicy {
  if (!Number.isInteger(p.threads) || p.threads < 1 || p.threads > MAX_THREADS) {
    throw new SwarmError('PROVIDER_BAD_POLICY', `threads must be a whole number in 1..${MAX_THREADS}`, { threads: p.threads });
  }
  if (!Number.isFinite(p.maxCpu) || p.maxCpu <= 0 || p.maxCpu > 100) {
    throw new SwarmError('PROVIDER_BAD_POLICY', '--max-cpu must be a percentage in (0, 100]', { maxCpu: p.maxCpu });
  }
  if (typeof p.idleOnly !== 'boolean') throw new SwarmError('PROVIDER_BAD_POLICY', 'idleOnly must be true or false');
  return { threads: p.threads, maxCpu: p.maxCpu, idleOnly: p.idleOnly, hours: p.hours === null ? null : checkHours(p.hours) };
}

/** "22-7" → {from: 22, to: 7}; "any" or "0-24" → all day. PROVIDER_BAD_POLICY otherwise. */
export function parseHours(text: string): HoursWindow | null {
  const t = text.trim();
  if (t === 'any' || t === '') return null;
  const m = /^(\d{1,2})(?::00)?-(\d{1,2})(?::00)?$/.exec(t);
  if (m === null) throw new SwarmError('PROVIDER_BAD_POLICY', `hours must be FROM-TO in whole hours of the local day, e.g. 22-7 or 9-17, got "${text}"`);
  const h = checkHours({ from: Number(m[1]), to: Number(m[2]) });
  return h.from === 0 && h.to === 24 ? null : h;
}

export function formatHours(h: HoursWindow | null): string {
  if (h === null) return 'any time';
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(h.from)}:00–${two(h.to)}:00`;
}

/** Whether local hour `hour` (0..23) is inside the window. */
export function inHours(h: HoursWindow | null, hour: number): boolean {
  if (h === null) return true;
  const to = h.to % 24;
  return h.from < to ? hour >= h.from && hour < to : h.to === 24 ? hour >= h.from : hour >= h.from || hour < to;
}

/** 0 when `nowMs` is inside the window, else the milliseconds until it opens (local time). */
export function msUntilHours(h: HoursWindow | null, nowMs: number): number {
  const d = new Date(nowMs);
  if (inHours(h, d.getHours())) return 0;
  const open = new Date(nowMs);
  open.setHours(h!.from, 0, 0, 0);
  if (open.getTime() <= nowMs) open.setDate(open.getDate() + 1);
  return Math.max(1, open.getTime() - nowMs);
}
