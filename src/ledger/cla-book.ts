/**
 * The contributor licence agreement read back from the log (issue 20;
 * CLA.md): which version is current at each point, and whether each
 * identity's signature names it. Pure; the auditor (audit.ts) feeds it the
 * cla-published and cla-signed entries in log order, and the tracker writes
 * them by the same rules (src/tracker/cla.ts).
 *
 * The rules:
 *  - cla-published (tracker-signed) without a decision: only as the FIRST
 *    cla-published of the log (the version the tracker was started with);
 *  - cla-published with a decision: an enacted `cla` council decision
 *    (council-book.ts claDecisions) with the same version and sha256, each
 *    decision carried out once; the version then is the current one;
 *  - cla-signed (self-signed: the caller checks the signature with the key
 *    the body carries): names the version and sha256 of the current
 *    cla-published. A signature of an older version is not logged by a
 *    tracker (it refuses it), so the log holds none.
 */
import type { CouncilBook } from './council-book.ts';
import type { LedgerEntry } from './entry.ts';

/** Why a CLA entry fails the audit. */
export const CLA_AUDIT_REASONS = ['cla-without-decision', 'cla-not-current'] as const;
export type ClaAuditReason = (typeof CLA_AUDIT_REASONS)[number];

export type ClaCheck = { reason: ClaAuditReason; message: string } | undefined;

export class ClaBook {
  /** the current version, undefined before the first cla-published */
  current: { version: string; sha256: string } | undefined;
  /** cla-published entries read so far */
  published = 0;
  /** decisions already carried out by a cla-published entry */
  private readonly used = new Set<string>();

  publish(e: LedgerEntry<'cla-published'>, council: CouncilBook): ClaCheck {
    const b = e.body;
    if (b.decision === undefined) {
      if (this.published > 0) {
        return { reason: 'cla-without-decision', message: `CLA ${b.version} is published without a council decision, but it is not the log's first CLA: a new version is a council decision` };
      }
    } else {
      const d = council.claDecisions.get(b.decision);
      if (d === undefined || d.version !== b.version || d.sha256 !== b.sha256) {
        return { reason: 'cla-without-decision', message: `CLA ${b.version} (${b.sha256}) names decision ${b.decision}, which is not an enacted cla decision for this version and text` };
      }
      if (this.used.has(b.decision)) return { reason: 'cla-without-decision', message: `decision ${b.decision} was carried out by an earlier cla-published entry` };
      this.used.add(b.decision);
    }
    this.published++;
    this.current = { version: b.version, sha256: b.sha256 };
    return undefined;
  }

  /** An identity's signature; its self-signature is the caller's check. */
  sign(e: LedgerEntry<'cla-signed'>): ClaCheck {
    const b = e.body;
    if (this.current === undefined) return { reason: 'cla-not-current', message: `${e.actor} signs CLA ${b.version}, but no CLA was published before` };
    if (b.version !== this.current.version || b.sha256 !== this.current.sha256) {
      return { reason: 'cla-not-current', message: `${e.actor} signs CLA ${b.version} (${b.sha256}); the current one is ${this.current.version} (${this.current.sha256})` };
    }
    return undefined;
  }
}
