/**
 * The kinds of ledger entry (entry.ts gives each its body). In a file of its
 * own, with no imports, so the dashboard's browser build (src/web) can use
 * the one list too: entry.ts reaches node:crypto through keys.ts.
 */
export const ENTRY_KINDS = [
  'provider-registered',
  'unit-issued',
  'result-submitted',
  'verdict',
  'credit-granted',
  'checkpoint-published',
  'council-decision',
  // governance (issue 20): the genesis council, proposals, members' votes, and
  // credit changed by a decision (the decision itself is council-decision)
  'council-formed',
  'council-proposal',
  'council-vote',
  'credit-adjusted',
  // the contributor licence (issue 20): a version made current (at the
  // tracker's start, or by a council `cla` decision), and an identity's own
  // signature of a version
  'cla-published',
  'cla-signed',
] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];
