/**
 * Swarm (`/`): the swarm live from GET /api/swarm, polled every 2 s:
 * providers online, units per minute issued / verified / rejected, verified
 * FLOP/s, each run's round and latest eval loss, the ledger's size and its
 * latest signed tree head.
 */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { LineChart } from '../chart.ts';
import { ErrorLine, Hash, Loading, Stat, Badge } from '../components.ts';
import { fmtInt, fmtLoss, fmtSi, fmtTime } from '../format.ts';
import { useApi } from '../hooks.ts';
import type { SwarmSnapshot } from '../types.ts';

export const SWARM_POLL_MS = 2000;

export function SwarmPage(): VNode {
  const { data: s, error } = useApi<SwarmSnapshot>('/api/swarm', SWARM_POLL_MS);
  if (s === undefined) return error === undefined ? html`<${Loading} />` : html`<${ErrorLine} error=${error} />`;
  const m = s.lastMinute;
  const perMin = 60_000 / s.bucketMs;
  const x = s.series.map((b) => b.t / 1000);
  const head = s.ledger.head;
  return html`
    <h1>The swarm, live</h1>
    <p class="muted">Updated every ${SWARM_POLL_MS / 1000} s · ${fmtTime(s.at)} ${error === undefined ? '' : html`· <span class="error">${error.message}</span>`}</p>
    <section class="stats" aria-label="Key numbers">
      <${Stat} name="providers-online" label="Providers online" value=${fmtInt(s.providers.online)} sub=${`of ${fmtInt(s.providers.registered)} registered`} />
      <${Stat} name="issued-per-minute" label="Units issued / min" value=${fmtInt(m.issued)} sub="replicas leased, last 60 s" />
      <${Stat} name="verified-per-minute" label="Verified / min" value=${fmtInt(m.verified)} sub="results a quorum agreed on" />
      <${Stat} name="rejected-per-minute" label="Rejected / min" value=${fmtInt(m.rejected)} sub="results outvoted" />
      <${Stat} name="verified-flops" label="Verified compute" value=${fmtSi(m.verifiedFlopsPerSecond, 'FLOP/s')} sub="of verified work, last 60 s" />
      <${Stat} name="ledger-size" label="Ledger entries" value=${fmtInt(s.ledger.size)} sub=${head === null ? 'no signed head yet' : `${fmtInt(head.tree_size)} under the latest signed head`} />
    </section>
    <div class="grid2">
      <${LineChart} title="Units per minute" time=${true} x=${x} yLabel="units / min" series=${[
        { label: 'issued', values: s.series.map((b) => b.issued * perMin), color: '#4563c7' },
        { label: 'verified', values: s.series.map((b) => b.verified * perMin), color: '#1d8a4a' },
        { label: 'rejected', values: s.series.map((b) => b.rejected * perMin), color: '#c0392b' },
      ]} />
      <${LineChart} title="Providers online (sampled while someone watches)" time=${true} x=${x} yLabel="providers" series=${[
        { label: 'online', values: s.series.map((b) => b.online), color: '#8a5cc7' },
      ]} />
    </div>
    <section aria-labelledby="runs-title">
      <h2 id="runs-title">Runs</h2>
      ${s.runs.length === 0
        ? html`<p class="muted">No training run yet. <code>swarm run create</code> or <code>npm start</code> starts one.</p>`
        : html`<div class="table-wrap"><table>
            <thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Round</th><th scope="col">Eval loss</th><th scope="col">Entropy floor</th></tr></thead>
            <tbody>${s.runs.map((r) => html`<tr data-run=${r.id}>
              <td><a href=${`/runs/${encodeURIComponent(r.id)}`}>${r.id}</a><div class="muted small">${r.label}</div></td>
              <td><${Badge} value=${r.status} /></td>
              <td data-k="round">${r.roundsDone} / ${r.rounds} done</td>
              <td data-k="eval-loss">${fmtLoss(r.evalLoss)}${r.evalRound === null ? '' : html` <span class="muted small">θ${r.evalRound}</span>`}</td>
              <td>${fmtLoss(r.entropyFloor)}</td>
            </tr>`)}</tbody>
          </table></div>`}
    </section>
    <section aria-labelledby="head-title">
      <h2 id="head-title">Latest signed tree head</h2>
      ${head === null
        ? html`<p class="muted">The tracker has not signed a head yet.</p>`
        : html`<dl class="kv">
            <dt>Tree size</dt><dd data-k="tree-size">${fmtInt(head.tree_size)}</dd>
            <dt>Signed at</dt><dd>${fmtTime(head.timestamp)}</dd>
            <dt>Root hash</dt><dd><code class="wrap">${head.sha256_root_hash}</code></dd>
            <dt>Signature</dt><dd><code class="wrap">${head.tree_head_signature}</code></dd>
            <dt>Tracker key</dt><dd><${Hash} value=${head.key_id} n=${16} /></dd>
          </dl>
          <p><a href="/ledger">Explore the ledger and check its proofs in your browser →</a></p>`}
    </section>`;
}
