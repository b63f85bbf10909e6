/**
 * Run (`/runs/:id`): GET /api/runs/:id (polled while it trains) and
 * GET /api/runs/:id/units. The loss per finished round against the
 * corpus's entropy floor (one point per round: train loss of the round's
 * units, eval loss of the θ it produced), the traffic per round, the
 * checkpoints with their hashes, a download link each and their ledger
 * entries, and every unit's replicas with their verdicts.
 */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { isNotFound, query } from '../api.ts';
import { LineChart } from '../chart.ts';
import { Badge, ErrorLine, Hash, Loading, NotFound, ProviderLink, Stat } from '../components.ts';
import { fmtBytes, fmtInt, fmtLoss, fmtTime } from '../format.ts';
import { useApi } from '../hooks.ts';
import type { RunUnits, RunView } from '../types.ts';

function latestEval(evalLoss: Record<string, number>): { round: number; loss: number } | null {
  const keys = Object.keys(evalLoss).map(Number).filter(Number.isInteger).sort((a, b) => b - a);
  return keys.length === 0 ? null : { round: keys[0]!, loss: evalLoss[String(keys[0])]! };
}

/** Rounds are shown 1-based (round k makes θk); the API's unit round r is 0-based: the round that trains θr. */
function roundTitle(r: number, rounds: number): string {
  return r >= rounds ? `After the last round: evaluation of θ${r}` : `Round ${r + 1}`;
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

function Units(p: { units: RunUnits; rounds: number }): VNode {
  if (p.units.units.length === 0) return html`<p class="muted">No units issued yet.</p>`;
  return html`${p.units.rounds.map((r) => {
    const us = p.units.units.filter((u) => u.round === r);
    if (us.length === 0) return null;
    return html`<details class="round-units" open=${r === p.units.rounds[0]}>
      <summary>${roundTitle(r, p.rounds)}: ${plural(us.length, 'unit', 'units')}, ${us.filter((u) => u.status === 'valid').length} verified</summary>
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">Unit</th><th scope="col">Status</th><th scope="col">Agreed result</th><th scope="col">Replicas (provider, state, verdict)</th></tr></thead>
        <tbody>${us.map((u) => html`<tr data-unit=${u.id}>
          <td>${u.kind === 'eval' ? `eval of θ${u.round}` : `slot ${u.slot}`}<div class="muted small">${u.id}</div></td>
          <td><${Badge} value=${u.status} /></td>
          <td>${u.canonicalHash === null ? '—' : html`<${Hash} value=${u.canonicalHash} />`}</td>
          <td><ul class="replicas">${u.replicas.map((x) => html`<li><${ProviderLink} id=${x.provider} name=${x.providerName} /> ${x.state} <${Badge} value=${x.verdict} /></li>`)}</ul></td>
        </tr>`)}</tbody>
      </table></div>
    </details>`;
  })}`;
}

export function RunPage(p: { id: string }): VNode {
  const base = `/api/runs/${encodeURIComponent(p.id)}`;
  const { data: run, error } = useApi<RunView>(base, 2000);
  const units = useApi<RunUnits>(`${base}/units`, 5000);
  if (run === undefined) {
    if (isNotFound(error)) return html`<${NotFound} what="run" id=${p.id} />`;
    return error === undefined ? html`<${Loading} />` : html`<${ErrorLine} error=${error} />`;
  }
  const { spec, progress } = run;
  const h = progress.history;
  const floor = spec.entropyFloor;
  const last = latestEval(progress.evalLoss);
  const x = h.map((r) => r.round + 1);
  const series = [
    { label: 'eval loss', values: h.map((r) => progress.evalLoss[String(r.round + 1)] ?? null), color: '#4563c7' },
    { label: 'train loss', values: h.map((r) => r.trainLoss), color: '#e08a1e' },
    ...(floor === null ? [] : [{ label: 'entropy floor', values: h.map(() => floor), color: '#777', dash: [6, 4] }]),
  ];
  const moved = h.reduce((a, r) => a + r.bytesDown + r.bytesUp, 0);
  return html`
    <h1>Run <span class="wrap">${run.id}</span></h1>
    <p class="muted">${spec.label}</p>
    <section class="stats" aria-label="Key numbers">
      <${Stat} name="status" label="Status" value=${progress.status} sub=${progress.message ?? `${spec.slots} slots × ${spec.innerSteps} inner steps`} />
      <${Stat} name="rounds-done" label="Rounds done" value=${`${h.length} / ${spec.rounds}`} sub=${progress.status === 'training' ? `training round ${progress.round + 1}` : 'no round training'} />
      <${Stat} name="eval-loss" label="Latest eval loss" value=${fmtLoss(last?.loss)} sub=${last === null ? 'no evaluation yet' : `θ${last.round}, nats per token`} />
      <${Stat} name="entropy-floor" label="Entropy floor" value=${fmtLoss(floor)} sub=${floor === null || last === null ? 'the loss no model can beat' : `gap ${fmtLoss(last.loss - floor)}`} />
      <${Stat} name="bytes-moved" label="Traffic" value=${fmtBytes(moved)} sub="inputs down and results up, all rounds" />
    </section>
    ${run.waiting === undefined || run.waiting.reasons.length === 0 ? null : html`<section class=${run.waiting.stalled ? 'note note-bad' : 'note'} aria-label="Why the round waits">
      <strong>Round ${run.waiting.round} ${run.waiting.stalled ? 'is stalled' : 'waits'}:</strong>
      <ul>${run.waiting.reasons.map((r) => html`<li>${r}</li>`)}</ul>
    </section>`}
    <${LineChart} title="Loss per round against the entropy floor" x=${x} xLabel="round" yLabel="nats / token" series=${series} />
    <section aria-labelledby="rounds-title">
      <h2 id="rounds-title">Rounds and checkpoints</h2>
      ${h.length === 0 ? html`<p class="muted">No round has closed yet.</p>` : html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">Round</th><th scope="col" class="num">Train loss</th><th scope="col" class="num">Eval loss of θ</th><th scope="col" class="num">Traffic</th><th scope="col">Checkpoint θ</th></tr></thead>
        <tbody>${[...h].reverse().map((r) => html`<tr data-round=${r.round}>
          <td title=${`closed ${fmtTime(r.closedAt)}`}>${r.round + 1}<div class="muted small">${plural(r.slots.length, 'slot', 'slots')}${r.dropped.length > 0 ? `, ${r.dropped.length} dropped` : ''}</div></td>
          <td class="num" data-k="train-loss">${fmtLoss(r.trainLoss)}</td>
          <td class="num" data-k="eval-loss">${fmtLoss(progress.evalLoss[String(r.round + 1)])}</td>
          <td class="num">${fmtBytes(r.bytesDown + r.bytesUp)}${r.bytesOneReplica === undefined ? '' : html`<div class="muted small" title="what one replica per slot moves: DiLoCo's own traffic without the verification copies">${fmtBytes(r.bytesOneReplica)} with one copy per slot</div>`}</td>
          <td><${Hash} value=${r.checkpoint} />
            <div class="links"><a href=${`/api/blobs/${r.checkpoint}`} download=${`${run.id}-round-${r.round + 1}.ckpt`}>Download</a>
            · <a href=${`/ledger${query({ kind: 'checkpoint-published' })}`}>Ledger entry</a></div></td>
        </tr>`)}</tbody>
      </table></div>`}
    </section>
    <section aria-labelledby="units-title">
      <h2 id="units-title">Units, replicas and verdicts</h2>
      ${units.data === undefined ? (units.error === undefined ? html`<${Loading} />` : html`<${ErrorLine} error=${units.error} />`) : html`<${Units} units=${units.data} rounds=${spec.rounds} />`}
    </section>
    <p class="muted small">Raw data: <a href=${base}>${base}</a> · <a href=${`${base}/units`}>${base}/units</a> · ${fmtInt(spec.replication)}× replication</p>`;
}
