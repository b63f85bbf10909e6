/**
 * A one-line progress display: redrawn in place on a terminal, printed every
 * `everyMs` (and at the end) when output is a pipe or CI log, silent in --json mode.
 */
export interface Progress {
  update(done: number, text: string): void;
  finish(text: string): void;
}

export function createProgress(opts: { total: number; label: string; stream?: NodeJS.WriteStream; quiet?: boolean; everyMs?: number }): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const every = opts.everyMs ?? (tty ? 100 : 2000);
  const start = performance.now();
  let last = -Infinity;
  const bar = (done: number) => {
    const width = 20;
    const filled = Math.round((width * done) / Math.max(1, opts.total));
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  };
  const eta = (done: number) => {
    const el = (performance.now() - start) / 1000;
    if (done === 0) return '?';
    return `${Math.max(0, (el / done) * (opts.total - done)).toFixed(1)}s`;
  };
  return {
    update(done, text) {
      if (opts.quiet) return;
      const now = performance.now();
      if (now - last < every && done < opts.total) return;
      last = now;
      const line = `${opts.label} ${bar(done)} ${done}/${opts.total} ${text} eta ${eta(done)}`;
      if (tty) stream.write(`\r\x1b[2K${line}`);
      else stream.write(`${line}\n`);
    },
    finish(text) {
      if (opts.quiet) return;
      const el = ((performance.now() - start) / 1000).toFixed(1);
      const line = `${opts.label} ${bar(opts.total)} ${opts.total}/${opts.total} ${text} in ${el}s`;
      if (tty) stream.write(`\r\x1b[2K${line}\n`);
      else stream.write(`${line}\n`);
    },
  };
}

/** 1234567 → "1.2 MB" (decimal units, as network traffic is usually given). */
export function fmtBytes(n: number): string {
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(n < 10 && i > 0 ? 1 : 0)} ${u[i]}`;
}
