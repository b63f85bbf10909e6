/**
 * The provider's own page (issue 17; DESIGN.md, People: "a local status
 * page"), served by `swarm provide` on 127.0.0.1 (src/cli/provider-ui.ts)
 * and bundled by scripts/build-web.mjs into build/web/provider/. It shows
 * the provider's state, the unit in hand, its results, credit and
 * reputation (polled every second), pauses and resumes it, and edits its
 * policy live: threads, max CPU, idle-only and hours of the day.
 *
 * Every API call carries the token from this page's address (`?token=…`,
 * printed by `swarm provide`) in the x-swarm-token header; without it the
 * server answers 403 and the page says where to find the address.
 */
import '../style.css';
import './provider.css';
import { html, render } from 'htm/preact';
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { formatHours } from '../../provider/policy.ts';
import type { HoursWindow, ProviderPolicy } from '../../provider/policy.ts';
import type { ProviderStatusLine } from '../../provider/status.ts';
import { ApiError } from '../api.ts';
import { ErrorLine, Loading, Stat } from '../components.ts';
import { fmtCredit, fmtInt, short } from '../format.ts';

/** GET /api/status (src/cli/provider-ui.ts ProviderUiStatus). */
interface UiStatus {
  provider: { name: string; team?: string; id: string; tracker: string; idleProbe: boolean };
  paused: boolean;
  policy: ProviderPolicy;
  status: ProviderStatusLine;
}

const TOKEN = new URLSearchParams(location.search).get('token') ?? '';
const POLL_MS = 1_000;

async function call(method: string, path: string, body?: unknown): Promise<UiStatus> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { 'x-swarm-token': TOKEN, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the provider cannot be reached (has `swarm provide` stopped?)');
  }
  const json = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const err = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    throw new ApiError(res.status, typeof err?.code === 'string' ? err.code : `HTTP_${res.status}`, typeof err?.message === 'string' ? err.message : res.statusText);
  }
  return json as UiStatus;
}

const STATES: Record<string, string> = {
  starting: 'Starting',
  idle: 'Idle: the tracker has no work',
  'waiting-for-idle': 'Waiting for the machine to be idle',
  fetching: 'Fetching inputs',
  running: 'Running a unit',
  uploading: 'Uploading a result',
  resting: 'Resting (max CPU)',
  'backing-off': 'Backing off',
  paused: 'Paused',
  'outside-hours': 'Outside its hours',
  stopped: 'Stopped',
};
const BUSY = new Set(['fetching', 'running', 'uploading']);

function stateText(s: UiStatus): string {
  const st = s.status.state;
  if (s.paused && BUSY.has(st)) return 'Paused: finishing the unit in hand';
  if (s.paused && st !== 'stopped') return 'Paused';
  return STATES[st] ?? st;
}

function stateTone(s: UiStatus): string {
  if (s.status.state === 'stopped' || s.status.state === 'backing-off') return 'bad';
  if (s.paused || s.status.state === 'outside-hours' || s.status.state === 'waiting-for-idle') return 'warn';
  return 'good';
}

const hourLabel = (h: number): string => `${String(h).padStart(2, '0')}:00`;

interface Draft {
  threads: string;
  maxCpu: string;
  idleOnly: boolean;
  limitHours: boolean;
  from: string;
  to: string;
}

function draftOf(p: ProviderPolicy): Draft {
  return {
    threads: String(p.threads),
    maxCpu: String(p.maxCpu),
    idleOnly: p.idleOnly,
    limitHours: p.hours !== null,
    from: String(p.hours?.from ?? 22),
    to: String(p.hours?.to ?? 7),
  };
}

function PolicyForm(p: { data: UiStatus; onSaved: (s: UiStatus) => void }): VNode {
  const [draft, setDraft] = useState<Draft>(() => draftOf(p.data.policy));
  const [dirty, setDirty] = useState(false);
  const [saving, setSaving] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  // the policy may change elsewhere (another tab, a script): follow it while nothing is being edited
  const current = JSON.stringify(p.data.policy);
  useEffect(() => {
    if (!dirty) setDraft(draftOf(p.data.policy));
  }, [current, dirty]);
  const edit = (patch: Partial<Draft>): void => {
    setDraft((d) => ({ ...d, ...patch }));
    setDirty(true);
    setNote(null);
  };
  const onSubmit = (e: Event): void => {
    e.preventDefault();
    const hours: HoursWindow | null = draft.limitHours ? { from: Number(draft.from), to: Number(draft.to) } : null;
    const body = { threads: Number(draft.threads), maxCpu: Number(draft.maxCpu), idleOnly: draft.idleOnly, hours };
    setSaving(true);
    call('PUT', '/api/policy', body).then(
      (s) => {
        setDirty(false);
        setDraft(draftOf(s.policy));
        setNote({ ok: true, text: 'Saved: in force now.' });
        p.onSaved(s);
      },
      (err: unknown) => setNote({ ok: false, text: err instanceof ApiError ? `Not saved: ${err.message} (${err.code})` : String(err) }),
    ).finally(() => setSaving(false));
  };
  const value = (e: Event): string => (e.target as HTMLInputElement).value;
  const checked = (e: Event): boolean => (e.target as HTMLInputElement).checked;
  return html`<form class="policy-form" onSubmit=${onSubmit} aria-labelledby="policy-title">
    <label>Threads
      <input name="threads" type="number" inputmode="numeric" min="1" max="256" step="1" required value=${draft.threads} onInput=${(e: Event) => edit({ threads: value(e) })} />
    </label>
    <label>Max CPU (%)
      <input name="maxCpu" type="number" inputmode="decimal" min="1" max="100" step="any" required value=${draft.maxCpu} onInput=${(e: Event) => edit({ maxCpu: value(e) })} />
    </label>
    <label class="check full">
      <input name="idleOnly" type="checkbox" checked=${draft.idleOnly} disabled=${!p.data.provider.idleProbe} onChange=${(e: Event) => edit({ idleOnly: checked(e) })} />
      <span>Only while the machine is otherwise idle</span>
    </label>
    <fieldset class="hours full">
      <legend>Hours of the day (local time)</legend>
      <label class="check">
        <input name="limitHours" type="checkbox" checked=${draft.limitHours} onChange=${(e: Event) => edit({ limitHours: checked(e) })} />
        <span>Only during these hours</span>
      </label>
      <div class="hours-range">
        <label>From
          <select name="from" disabled=${!draft.limitHours} value=${draft.from} onChange=${(e: Event) => edit({ from: value(e) })}>
            ${Array.from({ length: 24 }, (_, h) => html`<option value=${String(h)}>${hourLabel(h)}</option>`)}
          </select>
        </label>
        <label>Until
          <select name="to" disabled=${!draft.limitHours} value=${draft.to} onChange=${(e: Event) => edit({ to: value(e) })}>
            ${Array.from({ length: 24 }, (_, i) => i + 1).map((h) => html`<option value=${String(h)}>${hourLabel(h)}</option>`)}
          </select>
        </label>
      </div>
    </fieldset>
    <div class="full form-actions">
      <button type="submit" disabled=${saving}>${saving ? 'Saving…' : 'Save policy'}</button>
      ${note === null ? null : html`<span class=${note.ok ? 'saved' : 'error'} role=${note.ok ? 'status' : 'alert'}>${note.text}</span>`}
    </div>
  </form>`;
}

function Page(): VNode {
  const [data, setData] = useState<UiStatus | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (): Promise<void> => {
      try {
        const s = await call('GET', '/api/status');
        if (stop) return;
        setData(s);
        setError(undefined);
      } catch (e) {
        if (stop) return;
        setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)));
        if (e instanceof ApiError && e.status === 403) return; // a wrong token will not become right
      }
      if (!stop) timer = setTimeout(() => void load(), document.hidden ? POLL_MS * 5 : POLL_MS);
    };
    void load();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, []);
  useEffect(() => {
    if (data !== undefined) document.title = `${data.paused ? 'Paused' : stateText(data)} · ${data.provider.name} · provider`;
  }, [data?.paused, data?.status.state, data?.provider.name]);

  if (TOKEN === '' || error?.status === 403) {
    return html`<h1>Provider</h1>
      <p class="note" role="alert">This page needs the address <code>swarm provide</code> printed when it started: it ends in <code>/?token=…</code>. The token keeps other programs and web pages on this machine from driving the provider. A provider started by <code>swarm provide --install</code> writes it to its log: <code>journalctl --user -u swarm-provider</code>.</p>`;
  }
  if (data === undefined) return error === undefined ? html`<${Loading} />` : html`<${ErrorLine} error=${error} />`;
  const s = data.status;
  const toggle = (): void => {
    setBusy(true);
    call('POST', data.paused ? '/api/resume' : '/api/pause').then(setData, (e: unknown) => setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)))).finally(() => setBusy(false));
  };
  const pct = Math.round(s.progress * 100);
  return html`
    <h1>Provider ${data.provider.name}</h1>
    <p class="muted small ident">Key <code title=${data.provider.id}>${short(data.provider.id, 16)}</code>${data.provider.team === undefined ? '' : ` · team ${data.provider.team}`} · tracker <a href=${data.provider.tracker}>${data.provider.tracker}</a></p>
    ${error === undefined ? null : html`<${ErrorLine} error=${error} />`}
    <section class="panel state-panel" aria-labelledby="state-title">
      <h2 id="state-title" class="visually-hidden">State</h2>
      <div class="state-row">
        <p class="state" aria-live="polite">
          <span class=${`badge badge-${stateTone(data)} state-badge`} data-stat="state" data-state=${s.state} data-paused=${String(data.paused)}>${stateText(data)}</span>
        </p>
        <button type="button" class=${data.paused ? 'resume' : 'pause'} disabled=${busy || s.state === 'stopped'} onClick=${toggle}>${data.paused ? 'Resume' : 'Pause'}</button>
      </div>
      <p class="muted small">${data.paused
        ? 'Paused: no new units are taken (a unit in hand may finish, and its result is still reported). Resume to take units again.'
        : 'Working: units are taken while the policy below allows it.'}</p>
      ${s.message === undefined ? null : html`<p class="small muted msg" data-stat="message">${s.message}</p>`}
      <div class="unit" data-unit=${s.unitId ?? ''}>
        ${s.unitId === null
          ? html`<p class="muted small">No unit in hand.</p>`
          : html`<p class="small"><span class="badge">${s.kind}</span> <code class="wrap">${s.unitId}</code></p>
            <label class="progress-label">Progress <span data-stat="progress">${pct} %</span>
              <progress max="100" value=${pct}>${pct} %</progress>
            </label>`}
      </div>
    </section>
    <div class="stats">
      <${Stat} label="Results computed" value=${fmtInt(s.computed)} name="computed" sub="by this process" />
      <${Stat} label="Acknowledged" value=${fmtInt(s.completed)} name="completed" sub="received by the tracker" />
      <${Stat} label="Failed" value=${fmtInt(s.failed)} name="failed" sub=${s.dropped > 0 ? `${fmtInt(s.dropped)} dropped` : undefined} />
      <${Stat} label="Credit" value=${s.credit === null ? '—' : fmtCredit(s.credit)} name="credit" sub="verified work (FLOP)" />
      <${Stat} label="Reputation" value=${s.reputation === null ? '—' : s.reputation.toFixed(3)} name="reputation" />
    </div>
    <section class="panel" aria-labelledby="policy-title">
      <h2 id="policy-title">Policy</h2>
      <p class="muted small" data-stat="policy">In force: ${data.policy.threads} thread${data.policy.threads === 1 ? '' : 's'}, at most <span data-stat="max-cpu">${data.policy.maxCpu} %</span> CPU${data.policy.idleOnly ? ', only while idle' : ''}, ${data.policy.hours === null ? 'at any time' : html`<span class="nowrap">${formatHours(data.policy.hours)}</span>`}.</p>
      <${PolicyForm} data=${data} onSaved=${setData} />
    </section>`;
}

function App(): VNode {
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <span class="brand">Sovereign Swarm · this provider</span>
    </header>
    <main id="main" tabindex="-1"><${Page} /></main>
    <footer class="foot muted small">Served by <code>swarm provide</code> on 127.0.0.1 only. Its JSON API: <code>GET /api/status</code>, <code>POST /api/pause</code>, <code>POST /api/resume</code>, <code>PUT /api/policy</code>, each with the token in the <code>x-swarm-token</code> header.</footer>`;
}

render(html`<${App} />`, document.getElementById('app')!);
