/**
 * Ledger explorer (`/ledger`, `/ledger/entry/:index`): entries newest first
 * from GET /api/ledger/entries with filters by kind and identity, each with
 * its canonical JSON and signature, and a "Verify" that checks, in this
 * browser, that the entry's exact bytes are in the log the tracker signed
 * (proof/check.ts: WebCrypto SHA-256, RFC 6962 hashing, Ed25519 of the
 * head). A second check shows the log only grew since the page was opened
 * (a consistency proof between the head seen then and the head now).
 *
 * What is trusted: only the tracker's public key from /api/info (compare it
 * with the key id `swarm tracker` printed). The entry's text is decoded here
 * from the very bytes that are hashed, not taken from the server's text.
 */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { base64Decode, base64Encode, base64UrlDecode, utf8Decode } from '../../core/encoding.ts';
import { ApiError, getJson, isNotFound, query } from '../api.ts';
import { ErrorLine, Hash, Loading, NotFound } from '../components.ts';
import { fmtInt, fmtTime } from '../format.ts';
import { useApi } from '../hooks.ts';
import { checkConsistency, checkInclusion } from '../proof/check.ts';
import type { AuditPathJson, CheckResult } from '../proof/check.ts';
import { leafHash, webCryptoSha256 } from '../proof/merkle.ts';
import { navigate } from '../router.ts';
import { ENTRY_KINDS } from '../types.ts';
import type { LedgerEntryView, LedgerPage as LedgerPageJson, SthJson, TrackerInfo } from '../types.ts';

type Outcome = { state: 'idle' } | { state: 'running' } | { state: 'pending'; message: string } | { state: 'done'; result: CheckResult } | { state: 'error'; message: string };

async function trackerKey(): Promise<Uint8Array> {
  return base64UrlDecode((await getJson<TrackerInfo>('/api/info')).trackerKey);
}

function message(e: unknown): string {
  return e instanceof ApiError ? `${e.message} (${e.code})` : e instanceof Error ? e.message : String(e);
}

/** The verdict of a check: green or red, with each step and why. */
function OutcomeView(p: { outcome: Outcome; okTitle: string }): VNode | null {
  const o = p.outcome;
  if (o.state === 'idle') return null;
  if (o.state === 'running') return html`<p class="verify" role="status" aria-busy="true">Checking…</p>`;
  if (o.state === 'pending') return html`<p class="verify verify-pending" role="status" data-verify="pending">${o.message}</p>`;
  if (o.state === 'error') return html`<div class="verify verify-bad" role="status" data-verify="bad"><strong>✗ Check failed</strong><p>${o.message}</p></div>`;
  const r = o.result;
  return html`<div class=${r.ok ? 'verify verify-ok' : 'verify verify-bad'} role="status" data-verify=${r.ok ? 'ok' : 'bad'}>
    <strong>${r.ok ? `✓ ${p.okTitle}` : '✗ Check failed: do not trust this entry'}</strong>
    <ol>${r.steps.map((s) => html`<li class=${s.ok ? 'step-ok' : 'step-bad'}>${s.ok ? '✓' : '✗'} ${s.label}: <span class="wrap">${s.detail}</span></li>`)}</ol>
  </div>`;
}

async function verifyEntry(entry: LedgerEntryView): Promise<Outcome> {
  const [key, sth] = await Promise.all([trackerKey(), getJson<SthJson>('/ledger/v1/get-sth')]);
  if (entry.index >= sth.tree_size) {
    return { state: 'pending', message: `Not yet under a signed tree head (the latest covers ${sth.tree_size} entries); heads are signed within seconds: try again.` };
  }
  const leafInput = base64Decode(entry.leafInput);
  const leaf = await leafHash(webCryptoSha256, leafInput);
  const proof = await getJson<AuditPathJson>(`/ledger/v1/get-proof-by-hash${query({ hash: base64Encode(leaf), tree_size: sth.tree_size })}`);
  return { state: 'done', result: await checkInclusion({ leafInput, index: entry.index, sth, proof, trackerKey: key }) };
}

interface ParsedEntry {
  kind?: string;
  time?: number;
  actor?: string;
  body?: Record<string, unknown>;
  sig?: string;
}

function EntryCard(p: { entry: LedgerEntryView; open?: boolean }): VNode {
  const [outcome, setOutcome] = useState<Outcome>({ state: 'idle' });
  let text = '';
  let parsed: ParsedEntry = {};
  try {
    text = utf8Decode(base64Decode(p.entry.leafInput));
    parsed = JSON.parse(text) as ParsedEntry;
  } catch {
    parsed = {};
  }
  const { sig, ...unsigned } = parsed;
  const body = parsed.body ?? {};
  const about = ['run', 'unit', 'outcome', 'round', 'amount', 'name'].filter((k) => body[k] !== undefined).map((k) => `${k} ${String(body[k])}`).join(' · ');
  const onVerify = (): void => {
    setOutcome({ state: 'running' });
    verifyEntry(p.entry).then(setOutcome, (e: unknown) => setOutcome({ state: 'error', message: message(e) }));
  };
  return html`<article class="entry" data-entry=${p.entry.index} aria-labelledby=${`entry-${p.entry.index}`}>
    <header class="entry-head">
      <a id=${`entry-${p.entry.index}`} href=${`/ledger/entry/${p.entry.index}`}>#${p.entry.index}</a>
      <span class="badge badge-neutral">${parsed.kind ?? 'unreadable'}</span>
      <span class="muted small">${typeof parsed.time === 'number' ? fmtTime(parsed.time) : ''}</span>
      <button type="button" class="entry-verify" onClick=${onVerify} disabled=${outcome.state === 'running'} aria-label=${`Verify that entry ${p.entry.index} is in the signed log`}>Verify</button>
    </header>
    <p class="small">${about === '' ? null : html`${about} · `}by ${typeof parsed.actor === 'string' ? html`<${Hash} value=${parsed.actor} />` : '—'}</p>
    <details open=${p.open === true}>
      <summary>Canonical JSON and signature</summary>
      <pre class="json">${JSON.stringify(unsigned, null, 2)}</pre>
      <p class="small">Signature (Ed25519 over "swarm-ledger-entry-v1\\n" ‖ the entry without <code>sig</code>):</p>
      <code class="wrap block">${sig ?? '—'}</code>
      <p class="small">The exact bytes in the log (RFC 8785 canonical JSON):</p>
      <code class="wrap block">${text}</code>
    </details>
    <${OutcomeView} outcome=${outcome} okTitle="Included in the log the tracker signed" />
  </article>`;
}

/** The log only grew: the head seen when the page opened against the head now. */
function ConsistencyCheck(): VNode {
  const [first, setFirst] = useState<SthJson | undefined>(undefined);
  const [outcome, setOutcome] = useState<Outcome>({ state: 'idle' });
  useEffect(() => {
    getJson<SthJson>('/ledger/v1/get-sth').then(setFirst, () => undefined);
  }, []);
  const run = async (): Promise<Outcome> => {
    if (first === undefined) return { state: 'error', message: 'no tree head was seen when the page opened' };
    const [key, now] = await Promise.all([trackerKey(), getJson<SthJson>('/ledger/v1/get-sth')]);
    const proof = await getJson<{ consistency: string[] }>(`/ledger/v1/get-sth-consistency${query({ first: first.tree_size, second: now.tree_size })}`);
    return { state: 'done', result: await checkConsistency({ older: first, newer: now, proof: proof.consistency, trackerKey: key }) };
  };
  const onCheck = (): void => {
    setOutcome({ state: 'running' });
    run().then(setOutcome, (e: unknown) => setOutcome({ state: 'error', message: message(e) }));
  };
  return html`<section class="panel" aria-labelledby="cons-title">
    <h2 id="cons-title">Did the log only grow?</h2>
    <p class="small">${first === undefined ? 'Reading the signed tree head…' : `When this page opened the tracker had signed ${fmtInt(first.tree_size)} entries. Check that today's log still starts with exactly those (a consistency proof, checked here).`}</p>
    <button type="button" onClick=${onCheck} disabled=${first === undefined || outcome.state === 'running'}>Check consistency</button>
    <${OutcomeView} outcome=${outcome} okTitle="The log only grew: nothing before was changed" />
  </section>`;
}

export function LedgerPage(p: { search: string }): VNode {
  const params = new URLSearchParams(p.search);
  const kind = params.get('kind') ?? '';
  const identity = params.get('identity') ?? '';
  const [entries, setEntries] = useState<LedgerEntryView[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const load = (before: number | undefined, replace: boolean): void => {
    setLoading(true);
    getJson<LedgerPageJson>(`/api/ledger/entries${query({ kind, identity, before, limit: 25 })}`).then(
      (r) => {
        setEntries((old) => (replace ? r.entries : [...old, ...r.entries]));
        setNext(r.next);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', message(e)));
        setLoading(false);
      },
    );
  };
  useEffect(() => load(undefined, true), [kind, identity]);
  const onSubmit = (e: Event): void => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    navigate(`/ledger${query({ kind: String(f.get('kind') ?? ''), identity: String(f.get('identity') ?? '').trim() })}`);
  };
  return html`
    <h1>Ledger explorer</h1>
    <p class="muted">Every issue, result, verdict, credit and checkpoint, signed by who did it, in an append-only Merkle log (RFC 6962). "Verify" checks an entry against the tracker's signed tree head here in your browser, trusting only the tracker's key.</p>
    <form class="filters" onSubmit=${onSubmit} role="search" aria-label="Filter ledger entries">
      <label>Kind
        <select name="kind" value=${kind}>
          <option value="">all kinds</option>
          ${ENTRY_KINDS.map((k) => html`<option value=${k}>${k}</option>`)}
        </select>
      </label>
      <label>Identity (key id)
        <input name="identity" value=${identity} placeholder="64 hex characters" pattern="[0-9a-f]{64}" autocomplete="off" spellcheck=${false} />
      </label>
      <button type="submit">Filter</button>
      ${kind !== '' || identity !== '' ? html`<a href="/ledger">Clear</a>` : null}
    </form>
    <${ConsistencyCheck} />
    ${error === undefined ? null : html`<${ErrorLine} error=${error} />`}
    <section aria-label="Entries, newest first" class="entries">
      ${entries.length === 0 && !loading && error === undefined ? html`<p class="muted">No entries${kind !== '' || identity !== '' ? ' match these filters' : ' yet'}.</p>` : null}
      ${entries.map((e) => html`<${EntryCard} key=${e.index} entry=${e} />`)}
    </section>
    ${loading ? html`<${Loading} />` : next === null ? null : html`<button type="button" class="more" onClick=${() => load(next, false)}>Older entries</button>`}`;
}

export function EntryPage(p: { index: number }): VNode {
  const { data, error } = useApi<LedgerEntryView>(`/api/ledger/entries/${p.index}`);
  if (data === undefined) {
    if (isNotFound(error)) return html`<${NotFound} what="ledger entry" id=${String(p.index)} />`;
    return error === undefined ? html`<${Loading} />` : html`<${ErrorLine} error=${error} />`;
  }
  return html`<h1>Ledger entry ${p.index}</h1>
    <p><a href="/ledger">← All entries</a></p>
    <${EntryCard} entry=${data} open=${true} />`;
}
