/**
 * Pieces every page uses: the key-number card, the not-found and error
 * views, a hash shown short with its full value one tap away. Everything
 * from the tracker is put in as text (Preact escapes it); nothing here, or
 * anywhere in src/web, sets innerHTML.
 */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import type { ApiError } from './api.ts';
import { short } from './format.ts';

/** A key number as text: label, value, and a line under it. `name` is data-stat, for tests and scripts. */
export function Stat(p: { label: string; value: string | number; sub?: string; name: string }): VNode {
  return html`<div class="stat">
    <div class="stat-label">${p.label}</div>
    <div class="stat-value" data-stat=${p.name}>${p.value}</div>
    ${p.sub === undefined ? null : html`<div class="stat-sub">${p.sub}</div>`}
  </div>`;
}

export function NotFound(p: { what: string; id: string }): VNode {
  return html`<section class="not-found" aria-labelledby="nf-title">
    <h1 id="nf-title">Not found</h1>
    <p>There is no ${p.what} <code class="wrap">${p.id}</code> on this tracker.</p>
    <p><a href="/">Back to the swarm</a></p>
  </section>`;
}

export function ErrorLine(p: { error: ApiError }): VNode {
  return html`<p class="error" role="alert">Could not load: ${p.error.message} (${p.error.code})</p>`;
}

export function Loading(): VNode {
  return html`<p class="muted" aria-busy="true">Loading…</p>`;
}

/** A hash or key: the start shown, the whole in the title and for copying. */
export function Hash(p: { value: string; n?: number }): VNode {
  return html`<code class="hash" title=${p.value}>${short(p.value, p.n ?? 12)}</code>`;
}

/** A provider link by name (escaped) or key. */
export function ProviderLink(p: { id: string; name: string | null }): VNode {
  return html`<a href=${`/providers/${encodeURIComponent(p.id)}`} title=${p.id}>${p.name ?? short(p.id)}</a>`;
}

/** A verdict or state as a coloured badge with its word (colour is never the only cue). */
export function Badge(p: { value: string | null }): VNode {
  const v = p.value ?? '—';
  const tone = /valid|finished|returned/.test(v) && !/invalid/.test(v) ? 'good' : /invalid|failed|error|rejected/.test(v) ? 'bad' : 'neutral';
  return html`<span class=${`badge badge-${tone}`}>${v}</span>`;
}
