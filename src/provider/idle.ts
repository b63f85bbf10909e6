/**
 * "Is the machine otherwise idle?" for --idle-only: the CPU time every core
 * spent busy (os.cpus(), user + nice + sys + irq) minus this process's own
 * (process.cpuUsage()), over a short sample, as a fraction of the machine.
 * The owner's work counts, ours does not, so the provider pauses for the
 * owner but not for itself. BOINC's "suspend when non-BOINC CPU usage is
 * above N %" preference works the same way.
 */
import { cpus } from 'node:os';
import { sleep } from '../core/sleep.ts';

function busyMs(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

/** Fraction of the machine (0..1) used by other processes over `sampleMs`. */
export async function otherCpuLoad(sampleMs = 1_000): Promise<number> {
  const a = busyMs();
  const ownA = process.cpuUsage();
  await sleep(sampleMs);
  const b = busyMs();
  const own = process.cpuUsage(ownA);
  const total = b.total - a.total;
  if (total <= 0) return 0;
  const others = b.busy - a.busy - (own.user + own.system) / 1000;
  return Math.min(1, Math.max(0, others / total));
}

/** An isIdle probe for the pull loop: idle while others use less than `threshold` of the machine. */
export function idleProbe(threshold = 0.25, sampleMs = 1_000): () => Promise<boolean> {
  return async () => (await otherCpuLoad(sampleMs)) < threshold;
}
