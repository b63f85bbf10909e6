/** How numbers, times and hashes are written on the pages (text beside every chart). */

/** A loss to 3 decimals, or "—". */
export function fmtLoss(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(3);
}

/** Credit: whole numbers once large (credit counts FLOPs of verified work), one decimal below 1000. */
export function fmtCredit(x: number): string {
  return Math.abs(x) >= 1000 ? fmtInt(x) : x.toFixed(1);
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

/** 1234567 → "1.23 M" (FLOP/s, units per minute). */
export function fmtSi(x: number, unit: string): string {
  if (!Number.isFinite(x) || x === 0) return `0 ${unit}`;
  let i = 0;
  while (Math.abs(x) >= 1000 && i < SI.length - 1) {
    x /= 1000;
    i++;
  }
  return `${x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2)} ${SI[i]}${unit}`;
}

export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** An instant in UTC, "2026-05-01 12:00:00 UTC". */
export function fmtTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The start of a long hash or key, for tables (the full value is in the title and on the detail page). */
export function short(s: string, n = 12): string {
  return s.length <= n ? s : `${s.slice(0, n)}…`;
}
