/**
 * Leaderboard (`/leaderboard`) from GET /api/leaderboard, and a provider's
 * page (`/providers/:id`) from GET /api/providers/:id and its history
 * GET /api/providers/:id/replicas. Names and teams are whatever providers
 * chose: shown as text, never as markup.
 */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { isNotFound, query } from '../api.ts';
import { Badge, ErrorLine, Hash, Loading, NotFound, ProviderLink, Stat } from '../components.ts';
import { fmtCredit, fmtInt, fmtTime } from '../format.ts';
import { useApi } from '../hooks.ts';
import type { Leaderboard, ProviderReplicas, ProviderStatus } from '../types.ts';

const credit = fmtCredit;
const rep = (x: number): string => x.toFixed(3);

export function LeaderboardPage(): VNode {
  const { data, error } = useApi<Leaderboard>('/api/leaderboard', 5000);
  if (data === undefined) return error === undefined ? html`<${Loading} />` : html`<${ErrorLine} error=${error} />`;
  return html`
    <h1>Providers and teams</h1>
    <p class="muted">Credit is non-financial: it counts verified work. RAC is the recent average credit (per day, decaying with a one-week half-life). On a narrow screen some columns are left out; each provider's page has them all.</p>
    <section aria-labelledby="prov-title">
      <h2 id="prov-title">Providers</h2>
      ${data.providers.length === 0 ? html`<p class="muted">No provider has registered yet.</p>` : html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">#</th><th scope="col">Provider</th><th scope="col" class="wide-only">Team</th><th scope="col" class="num">Credit</th><th scope="col" class="num wide-only">RAC</th><th scope="col" class="num">Valid</th><th scope="col" class="num wide-only">Invalid</th><th scope="col" class="num wide-only">Reputation</th></tr></thead>
        <tbody>${data.providers.map((p: ProviderStatus, i: number) => html`<tr data-provider=${p.providerId}>
          <td>${i + 1}</td>
          <td><${ProviderLink} id=${p.providerId} name=${p.name} /></td>
          <td class="wide-only">${p.team ?? '—'}</td>
          <td class="num" data-k="credit">${credit(p.credit)}</td>
          <td class="num wide-only">${credit(p.rac)}</td>
          <td class="num" data-k="valid">${fmtInt(p.valid)}</td>
          <td class="num wide-only" data-k="invalid">${fmtInt(p.invalid)}</td>
          <td class="num wide-only">${rep(p.reputation)}</td>
        </tr>`)}</tbody>
      </table></div>`}
    </section>
    <section aria-labelledby="teams-title">
      <h2 id="teams-title">Teams</h2>
      ${data.teams.length === 0 ? html`<p class="muted">No team yet (<code>swarm provide --team NAME</code>).</p>` : html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">Team</th><th scope="col" class="num">Members</th><th scope="col" class="num">Credit</th><th scope="col" class="num wide-only">RAC</th></tr></thead>
        <tbody>${data.teams.map((t) => html`<tr data-team=${t.team}><td>${t.team}</td><td class="num">${t.members}</td><td class="num">${credit(t.credit)}</td><td class="num wide-only">${credit(t.rac)}</td></tr>`)}</tbody>
      </table></div>`}
    </section>`;
}

export function ProviderPage(p: { id: string }): VNode {
  const path = `/api/providers/${encodeURIComponent(p.id)}`;
  const { data, error } = useApi<ProviderStatus>(path, 5000);
  const hist = useApi<ProviderReplicas>(data === undefined ? null : `${path}/replicas`, 5000);
  if (data === undefined) {
    if (isNotFound(error)) return html`<${NotFound} what="provider" id=${p.id} />`;
    return error === undefined ? html`<${Loading} />` : html`<${ErrorLine} error=${error} />`;
  }
  return html`
    <h1>Provider <span class="wrap">${data.name ?? data.providerId.slice(0, 16)}</span></h1>
    <p class="muted">Key <${Hash} value=${data.providerId} n=${24} />${data.team === null ? '' : html` · team <strong>${data.team}</strong>`}</p>
    <section class="stats" aria-label="Key numbers">
      <${Stat} name="credit" label="Credit" value=${credit(data.credit)} sub="verified work, all time" />
      <${Stat} name="rac" label="Recent average credit" value=${credit(data.rac)} sub="per day" />
      <${Stat} name="valid" label="Valid results" value=${fmtInt(data.valid)} />
      <${Stat} name="invalid" label="Invalid results" value=${fmtInt(data.invalid)} />
      <${Stat} name="reputation" label="Reputation" value=${rep(data.reputation)} sub="drops with every rejected result" />
    </section>
    <p><a href=${`/ledger${query({ identity: data.providerId })}`}>This provider's ledger entries →</a></p>
    <section aria-labelledby="hist-title">
      <h2 id="hist-title">Recent work</h2>
      ${hist.data === undefined ? (hist.error === undefined ? html`<${Loading} />` : html`<${ErrorLine} error=${hist.error} />`)
        : hist.data.replicas.length === 0 ? html`<p class="muted">No work yet.</p>` : html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">Issued</th><th scope="col">Unit</th><th scope="col">State</th><th scope="col">Verdict</th></tr></thead>
        <tbody>${hist.data.replicas.map((r) => html`<tr>
          <td>${fmtTime(r.issuedAt)}</td>
          <td>${r.run === null ? r.unit : html`<a href=${`/runs/${encodeURIComponent(r.run)}`}>${r.run}</a>`} <span class="muted small">${r.kind === 'eval' ? `r${r.round} eval` : `r${r.round} slot ${r.slot}`}</span></td>
          <td>${r.state}</td>
          <td><${Badge} value=${r.verdict} /></td>
        </tr>`)}</tbody>
      </table></div>`}
    </section>`;
}
