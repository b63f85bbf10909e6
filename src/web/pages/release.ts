/**
 * Releases (`/releases`, `/releases/:name`): the model versions the council
 * released (GET /api/releases), and one release's model card
 * (GET /api/releases/:name/card, generated from the ledger by the tracker's
 * model-card.ts): the run and round it came from, the model and the data,
 * eval loss against the entropy floor, contributors and their share of the
 * verified work, and the council's decision with its signatures. Every
 * ledger index links to that entry in the explorer, where it can be
 * verified against the signed log.
 */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { isNotFound } from '../api.ts';
import { ErrorLine, Hash, Loading, NotFound, ProviderLink, Stat } from '../components.ts';
import { fmtCredit, fmtInt, fmtLoss, fmtTime } from '../format.ts';
import { useApi } from '../hooks.ts';
import type { ModelCard, ReleaseView } from '../types.ts';

const releaseHref = (name: string): string => `/releases/${encodeURIComponent(name)}`;

/** A leaf index as a link to the ledger explorer's entry page, or a dash when the entry is not in the log. */
function EntryLink(p: { index: number | null; k: string }): VNode {
  return p.index === null ? html`<span class="muted">—</span>` : html`<a href=${`/ledger/entry/${p.index}`} data-ledger=${p.k}>#${fmtInt(p.index)}</a>`;
}

export function ReleasesPage(): VNode {
  const { data, error } = useApi<{ releases: ReleaseView[] }>('/api/releases', 10_000);
  if (data === undefined) return error === undefined ? html`<${Loading} />` : html`<${ErrorLine} error=${error} />`;
  return html`
    <h1>Releases</h1>
    <p class="muted">Named model versions: a checkpoint the Steering Council released by a signed M-of-N decision, each with a model card generated from the ledger.</p>
    ${data.releases.length === 0
      ? html`<p class="muted">Nothing released yet. A council member proposes one with <code>swarm council propose release --checkpoint SHA256 --name NAME</code>.</p>`
      : html`<div class="table-wrap"><table>
          <thead><tr><th scope="col">Name</th><th scope="col">Run</th><th scope="col">Checkpoint</th><th scope="col">Decision</th><th scope="col">Released</th></tr></thead>
          <tbody>${data.releases.map((r) => html`<tr data-release=${r.name}>
            <td><a href=${releaseHref(r.name)}>${r.name}</a></td>
            <td>${r.run === null ? '—' : html`<a href=${`/runs/${encodeURIComponent(r.run)}`}>${r.run}</a>`}</td>
            <td><${Hash} value=${r.checkpoint} /></td>
            <td>${r.decision}</td>
            <td>${fmtTime(r.releasedAt)}</td>
          </tr>`)}</tbody>
        </table></div>`}`;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

export function ReleasePage(p: { name: string }): VNode {
  const api = `/api/releases/${encodeURIComponent(p.name)}/card`;
  const { data: card, error } = useApi<ModelCard>(api);
  if (card === undefined) {
    if (isNotFound(error)) return html`<${NotFound} what="release" id=${p.name} />`;
    return error === undefined ? html`<${Loading} />` : html`<${ErrorLine} error=${error} />`;
  }
  const { run, model, training, data, council, ledger } = card;
  const ev = card.eval;
  const gap = ev === null || ev.loss === null || ev.entropyFloor === null ? null : ev.loss - ev.entropyFloor;
  return html`
    <h1>Model <span class="wrap">${card.name}</span></h1>
    <p class="muted">Released ${fmtTime(card.releasedAt)} by council decision ${council.decision}${run === null ? '' : html` · from run <a href=${`/runs/${encodeURIComponent(run.id)}`}>${run.id}</a>, ${run.label}`}</p>
    <section class="stats" aria-label="Key numbers">
      <${Stat} name="round" label="Checkpoint" value=${run === null ? '—' : `θ${run.round}`} sub=${run === null ? 'run unknown' : `after round ${run.round} of ${run.roundsPlanned}`} />
      <${Stat} name="params" label="Parameters" value=${model === null ? '—' : fmtInt(model.params)} sub=${model === null ? '' : `${model.preset ?? 'custom'}: ${model.nLayers} layers × ${model.dim}`} />
      <${Stat} name="eval-loss" label="Eval loss" value=${fmtLoss(ev?.loss)} sub=${ev === null ? 'not recorded' : `nats per token · train ${fmtLoss(ev.trainLoss)}`} />
      <${Stat} name="entropy-floor" label="Entropy floor" value=${fmtLoss(ev?.entropyFloor)} sub=${gap === null ? 'the loss no model can beat' : `gap ${fmtLoss(gap)}`} />
      <${Stat} name="contributors" label="Contributors" value=${fmtInt(card.contributors.length)} sub=${card.work === null ? '' : `${fmtInt(card.work.validReplicas)} verified results`} />
    </section>

    <section aria-labelledby="ckpt-title">
      <h2 id="ckpt-title">Checkpoint</h2>
      <dl class="kv">
        <dt>SHA-256</dt><dd><code class="wrap" data-k="checkpoint">${card.checkpoint}</code></dd>
        <dt>Download</dt><dd><a href=${card.blob} download=${`${card.name}.ckpt`} data-k="download">${card.blob}</a> <span class="muted small">global state: θ and the outer momentum</span></dd>
        <dt>Published</dt><dd><${EntryLink} index=${ledger.checkpointIndex} k="checkpoint" /> <span class="muted small">checkpoint-published: the units it aggregates, so it replays bit for bit</span></dd>
        ${run === null ? null : html`<dt>Round closed</dt><dd>${fmtTime(run.closedAt)} · ${run.slots.length} slot${run.slots.length === 1 ? '' : 's'} aggregated${run.dropped.length > 0 ? `, ${run.dropped.length} dropped` : ''}</dd>`}
      </dl>
    </section>

    ${model === null || training === null || data === null ? null : html`<section aria-labelledby="train-title">
      <h2 id="train-title">Model, training and data</h2>
      <dl class="kv">
        <dt>Model</dt><dd>${model.preset ?? 'custom'} Llama: ${model.nLayers} layers, width ${model.dim}, SwiGLU ${model.hiddenDim}, ${model.nHeads} heads (${model.nKvHeads} key/value), context ${model.maxSeqLen}, vocabulary ${fmtInt(model.vocabSize)}${model.tiedEmbeddings ? ', tied embeddings' : ''}</dd>
        <dt>DiLoCo</dt><dd>K = ${training.slots} slots × H = ${training.innerSteps} inner steps, batch ${training.batch} × ${training.seqLen} tokens, inner lr ${training.innerLr}, outer Nesterov lr ${training.outer.lr} momentum ${training.outer.momentum}, ${training.aggregate} aggregation, ${training.replication}× replication</dd>
        <dt>θ₀</dt><dd><${Hash} value=${training.init} n=${16} /></dd>
        <dt>Data shards</dt><dd>${fmtInt(data.shardCount)} shard blobs · digest <code class="wrap" data-k="shards-digest">${data.shardsDigest}</code>
          ${data.shards === null ? null : html`<ul class="replicas">${data.shards.map((r, i) => html`<li>round ${i + 1}: ${r.map((s) => html`<${Hash} value=${s} /> `)}</li>`)}</ul>`}</dd>
        <dt>Eval windows</dt><dd>${data.eval === null ? '—' : html`<${Hash} value=${data.eval} n=${16} />`}</dd>
        <dt>Tokenizer</dt><dd>${data.tokenizer ?? html`<span class="muted">not named by the run: its shards are token ids already</span>`}</dd>
      </dl>
    </section>`}

    <section aria-labelledby="contrib-title">
      <h2 id="contrib-title">Contributors and their share of verified work</h2>
      <p class="muted small">Credit-granted entries of the run${card.work === null ? '' : html` from entry <${EntryLink} index=${card.work.fromIndex} k="from" /> up to the checkpoint's`}: every valid result earns its unit's FLOPs.</p>
      ${card.contributors.length === 0 ? html`<p class="muted">No verified work is recorded for this checkpoint.</p>` : html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">Provider</th><th scope="col" class="num">Verified results</th><th scope="col" class="num">Credit</th><th scope="col" class="num">Share</th><th scope="col">Entries</th></tr></thead>
        <tbody>${card.contributors.map((c) => html`<tr data-contributor=${c.provider}>
          <td><${ProviderLink} id=${c.provider} name=${c.name} /></td>
          <td class="num" data-k="replicas">${fmtInt(c.validReplicas)}</td>
          <td class="num" data-k="credit">${fmtCredit(c.credit)}</td>
          <td class="num" data-k="share"><meter min="0" max="1" value=${c.share}></meter> ${pct(c.share)}</td>
          <td><a href=${`/ledger?kind=credit-granted&identity=${c.provider}`}>credit entries</a></td>
        </tr>`)}</tbody>
      </table></div>`}
    </section>

    <section aria-labelledby="council-title">
      <h2 id="council-title">The council's decision</h2>
      <dl class="kv">
        <dt>Decision</dt><dd data-k="decision">${council.decision}: release · ${council.approvals.length} approval${council.approvals.length === 1 ? '' : 's'}, ${council.threshold} needed</dd>
        <dt>Proposed</dt><dd>by <${Hash} value=${council.proposer} n=${16} /> at ${fmtTime(council.openedAt)} · entry <${EntryLink} index=${ledger.proposalIndex} k="proposal" /></dd>
        <dt>Enacted</dt><dd>${council.enactedAt === null ? '—' : fmtTime(council.enactedAt)} · entry <${EntryLink} index=${ledger.decisionIndex} k="decision" /></dd>
        <dt>Signatures</dt><dd><ul class="replicas">${council.approvals.map((a) => html`<li data-approval=${a.key}><${Hash} value=${a.key} n=${16} /> <code class="wrap small">${a.sig}</code></li>`)}</ul></dd>
      </dl>
    </section>
    <p class="muted small">Raw data: <a href=${api}>${api}</a></p>`;
}
