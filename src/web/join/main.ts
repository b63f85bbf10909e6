/**
 * "Join from this tab" (issue 18; DESIGN.md, People: a Provider runs
 * `swarm provide`, or the tracker's /join page in a browser tab). The page
 * says what the tab will do and asks for consent (and for the tracker's CLA
 * when it has one); Join starts one provider worker per lent thread
 * (./loop-worker.ts: the same provider loop as `swarm provide`), each
 * running its units in a worker of its own. The page itself only shows
 * their status and forwards pause / resume: its main thread never computes.
 *
 * Duty cycle: while the tab is hidden every worker works at most
 * HIDDEN_MAX_CPU % of the time (after a unit of t ms it rests
 * t·(100/HIDDEN_MAX_CPU − 1) ms, the loop's --max-cpu rule), so a
 * forgotten background tab does not hold the machine; visible again, it
 * works flat out. Closing the tab ends the workers: the unit in hand is
 * lost, its lease expires and the tracker issues it to someone else.
 */
import '../style.css';
import './join.css';
import { html, render } from 'htm/preact';
import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { keyPairFromSeed } from '../../ledger/keys.ts';
import type { ClaView } from '../../protocol/cla.ts';
import { startingStatus } from '../../provider/status.ts';
import type { ProviderStatusLine } from '../../provider/status.ts';
import { ApiError, getJson } from '../api.ts';
import { ErrorLine, Stat } from '../components.ts';
import { fmtCredit, fmtInt, short } from '../format.ts';
import { browserEngine } from './engine.ts';
import { loadOrCreateSeed } from './identity.ts';
import { openProviderDb } from './idb.ts';
import type { PageToWorker, StartMessage, WorkerToPage } from './messages.ts';

/** Most of its time a hidden tab may work (%, see the header). */
export const HIDDEN_MAX_CPU = 25;
const LOOP_WORKER_URL = '/join/assets/loop-worker.js';
const UNIT_WORKER_URL = '/join/assets/unit-worker.js';
const MEMORY_CHOICES_MB = [256, 512, 1024, 2048];

const cores = Math.max(1, navigator.hardwareConcurrency || 1);
/** navigator.deviceMemory (GiB, capped at 8 by browsers; Chromium only) → a default budget per unit. */
const deviceGiB = (navigator as { deviceMemory?: number }).deviceMemory ?? 4;
const defaultThreads = Math.max(1, Math.floor(cores / 2));
const defaultMemoryMb = MEMORY_CHOICES_MB.filter((m) => m * defaultThreads <= (deviceGiB * 1024) / 2).pop() ?? MEMORY_CHOICES_MB[0]!;

/** Why this browser cannot join, or null. */
function unsupported(): string | null {
  if (typeof WebAssembly !== 'object') return 'This browser has no WebAssembly.';
  if (typeof Worker !== 'function') return 'This browser has no Web Workers.';
  if (typeof indexedDB !== 'object') return 'This browser has no IndexedDB (private windows of some browsers turn it off).';
  if (!crossOriginIsolated) return 'This page is not cross-origin isolated, so the engine\'s shared WebAssembly memory is unavailable (the tracker sends the headers for it; a proxy in between may strip them).';
  return null;
}

interface Joined {
  providerId: string;
  workers: Worker[];
}

function JoinPage(): VNode {
  const [cla, setCla] = useState<ClaView | null>(null);
  const [claError, setClaError] = useState<ApiError | null>(null);
  const [threads, setThreads] = useState(defaultThreads);
  const [memoryMb, setMemoryMb] = useState(defaultMemoryMb);
  const [name, setName] = useState('');
  const [team, setTeam] = useState('');
  const [consent, setConsent] = useState(false);
  const [claAccepted, setClaAccepted] = useState(false);
  const [joined, setJoined] = useState<Joined | null>(null);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [statuses, setStatuses] = useState<Array<ProviderStatusLine | null>>([]);
  const [ended, setEnded] = useState<string | null>(null);
  const [paused, setPaused] = useState(false);
  const [hidden, setHidden] = useState(document.visibilityState === 'hidden');
  const workersRef = useRef<Worker[]>([]);
  const why = unsupported();

  useEffect(() => {
    getJson<ClaView>('/api/cla').then(setCla, (e: unknown) => setClaError(e instanceof ApiError ? e : new ApiError(0, 'NETWORK', String(e))));
  }, []);

  // A hidden tab works at most HIDDEN_MAX_CPU % of the time (see the header).
  useEffect(() => {
    const onVisibility = (): void => {
      const h = document.visibilityState === 'hidden';
      setHidden(h);
      send(workersRef.current, { type: 'max-cpu', maxCpu: h ? HIDDEN_MAX_CPU : 100 });
    };
    document.addEventListener('visibilitychange', onVisibility);
    return () => document.removeEventListener('visibilitychange', onVisibility);
  }, []);

  const needsCla = cla !== null && cla.required;
  const canJoin = why === null && cla !== null && consent && (!needsCla || claAccepted) && !starting && joined === null;

  async function join(): Promise<void> {
    setStarting(true);
    setError(null);
    try {
      const db = await openProviderDb();
      const { seed } = await loadOrCreateSeed(db);
      db.close();
      const providerId = keyPairFromSeed(seed).keyId;
      const base: Omit<StartMessage, 'index' | 'rngSeed'> = {
        type: 'start',
        trackerUrl: location.origin,
        seed,
        name: name.trim() === '' ? `browser-${providerId.slice(0, 8)}` : name.trim(),
        ...(team.trim() === '' ? {} : { team: team.trim() }),
        engine: browserEngine(navigator as Navigator & { userAgentData?: { brands?: Array<{ brand: string; version: string }> } }),
        memoryMb,
        unitWorkerUrl: new URL(UNIT_WORKER_URL, location.href).href,
        acceptCla: needsCla && claAccepted,
        maxCpu: document.visibilityState === 'hidden' ? HIDDEN_MAX_CPU : 100,
        paused: false,
      };
      const workers: Worker[] = [];
      setStatuses(Array.from({ length: threads }, () => null));
      const startOne = (index: number): void => {
        const w = new Worker(LOOP_WORKER_URL, { type: 'module', name: `swarm-provider-${index}` });
        w.onmessage = (ev: MessageEvent<WorkerToPage>) => onWorker(ev.data);
        w.onerror = (ev) => setError(`provider worker ${index + 1} failed: ${ev.message}`);
        workers[index] = w;
        workersRef.current = workers;
        const msg: StartMessage = { ...base, index, rngSeed: crypto.getRandomValues(new Uint32Array(1))[0]! };
        w.postMessage(msg satisfies PageToWorker);
      };
      const onWorker = (m: WorkerToPage): void => {
        if (m.type === 'status') setStatuses((s) => s.map((x, i) => (i === m.index ? m.status : x)));
        else if (m.type === 'registered' && m.index === 0) for (let i = 1; i < threads; i++) startOne(i); // worker 0 registered (and signed the CLA): the rest follow
        else if (m.type === 'ended') {
          // the loop is over: its row says so (a refusal at registration never sent a status)
          const line = m.code === 'PROVIDER_STOPPED' ? undefined : `${m.code}: ${m.message}`;
          setStatuses((s) => s.map((x, i) => (i === m.index ? { ...(x ?? startingStatus()), state: 'stopped', unitId: null, kind: null, ...(line === undefined ? {} : { message: line }) } : x)));
          if (line !== undefined) setEnded(line);
        }
      };
      // Worker 0 registers first (and signs the CLA when asked), so the others never race it.
      startOne(0);
      setJoined({ providerId, workers });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setStarting(false);
    }
  }

  function togglePause(): void {
    const next = !paused;
    setPaused(next);
    send(workersRef.current, { type: next ? 'pause' : 'resume' });
  }

  return html`
    <h1>Join from this tab</h1>
    ${why === null ? null : html`<p class="error" role="alert" data-testid="unsupported">${why}</p>`}
    ${joined === null
      ? html`<${Intro} cla=${cla} claError=${claError} />
        <form class="panel join-form" onSubmit=${(e: Event) => { e.preventDefault(); if (canJoin) void join(); }}>
          <label>Threads to lend
            <select name="threads" value=${threads} onChange=${(e: Event) => setThreads(Number((e.target as HTMLSelectElement).value))}>
              ${Array.from({ length: cores }, (_, i) => html`<option value=${i + 1}>${i + 1} of ${cores}</option>`)}
            </select>
          </label>
          <label>Memory per unit
            <select name="memory" value=${memoryMb} onChange=${(e: Event) => setMemoryMb(Number((e.target as HTMLSelectElement).value))}>
              ${MEMORY_CHOICES_MB.map((m) => html`<option value=${m}>${m >= 1024 ? `${m / 1024} GiB` : `${m} MiB`}</option>`)}
            </select>
          </label>
          <label>Name on the leaderboard (optional)
            <input name="name" maxlength="64" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} placeholder="browser-…" />
          </label>
          <label>Team (optional)
            <input name="team" maxlength="64" value=${team} onInput=${(e: Event) => setTeam((e.target as HTMLInputElement).value)} />
          </label>
          <label class="check full">
            <input type="checkbox" name="consent" checked=${consent} onChange=${(e: Event) => setConsent((e.target as HTMLInputElement).checked)} />
            <span>I agree to lend this tab's CPU and about ${memoryMb * threads} MiB of memory to this tracker until I close the tab or pause.</span>
          </label>
          ${needsCla ? html`<label class="check full">
            <input type="checkbox" name="cla" checked=${claAccepted} onChange=${(e: Event) => setClaAccepted((e.target as HTMLInputElement).checked)} />
            <span>I accept the contributor licence agreement ${cla.version} above (my signature of it goes into the ledger).</span>
          </label>` : null}
          <div class="full"><button class="join" type="submit" disabled=${!canJoin}>${starting ? 'Joining…' : 'Join'}</button></div>
        </form>`
      : html`<${Live} joined=${joined} statuses=${statuses} paused=${paused} hidden=${hidden} onToggle=${togglePause} ended=${ended} />`}
    ${error === null ? null : html`<p class="error" role="alert" data-testid="join-error">${error}</p>`}`;
}

function send(workers: readonly Worker[], m: PageToWorker): void {
  for (const w of workers) w?.postMessage(m);
}

function Intro(p: { cla: ClaView | null; claError: ApiError | null }): VNode {
  return html`<section class="panel what" aria-labelledby="what-title">
    <h2 id="what-title">What this tab will do</h2>
    <ul>
      <li>Make a signing key for you in this browser (kept in its storage for this site) and register it with this tracker.</li>
      <li>Download model parameters and data shards from this tracker (cached, up to 256 MiB) and train work units on them with the swarm's WebAssembly engine, in background workers — this page stays responsive.</li>
      <li>Send each result back. Every result is recomputed by another provider and counts only when they match; matching results earn credit and reputation (not money) on the <a href="/leaderboard">leaderboard</a>.</li>
      <li>Work flat out while this tab is visible and at most ${HIDDEN_MAX_CPU} % of the time while it is hidden. Pause at any time; closing the tab stops everything.</li>
    </ul>
    ${p.claError === null ? null : html`<${ErrorLine} error=${p.claError} />`}
    ${p.cla !== null && p.cla.required ? html`<h3>Contributor licence agreement ${p.cla.version}</h3>
      ${p.cla.text === undefined ? html`<p class="muted">The tracker names CLA ${p.cla.version} (SHA-256 <code>${short(p.cla.sha256, 16)}</code>) but does not serve its text.</p>` : html`<div class="cla-text" data-testid="cla-text">${p.cla.text}</div>`}` : null}
  </section>`;
}

const STATE_WORDS: Record<string, string> = {
  starting: 'starting', idle: 'waiting for work', fetching: 'downloading inputs', running: 'computing', uploading: 'sending results', resting: 'resting', 'backing-off': 'retrying', paused: 'paused', stopped: 'stopped', 'waiting-for-idle': 'waiting', 'outside-hours': 'outside hours',
};

function Live(p: { joined: Joined; statuses: Array<ProviderStatusLine | null>; paused: boolean; hidden: boolean; onToggle: () => void; ended: string | null }): VNode {
  const live = p.statuses.filter((s): s is ProviderStatusLine => s !== null);
  const sum = (f: (s: ProviderStatusLine) => number): number => live.reduce((t, s) => t + f(s), 0);
  const credit = live.reduce<number | null>((c, s) => (s.credit === null ? c : Math.max(c ?? 0, s.credit)), null);
  const rep = live.find((s) => s.reputation !== null)?.reputation ?? null;
  const running = live.filter((s) => s.state === 'running').length;
  return html`<section class="panel" aria-labelledby="live-title">
    <h2 id="live-title">This tab in the swarm</h2>
    <p class="ident small">Your identity: <a href=${`/providers/${p.joined.providerId}`}><code data-testid="provider-id">${p.joined.providerId}</code></a></p>
    <div class="state-row">
      <p class="state" data-testid="state" aria-live="polite">${p.ended !== null ? 'stopped' : p.paused ? 'paused — no new units (a unit in hand finishes)' : running > 0 ? `computing on ${running} of ${p.statuses.length} threads` : 'working'}${p.hidden && !p.paused ? ` · hidden tab: at most ${HIDDEN_MAX_CPU} % of the time` : ''}</p>
      <button type="button" class=${p.paused ? 'resume' : 'pause'} onClick=${p.onToggle} disabled=${p.ended !== null}>${p.paused ? 'Resume' : 'Pause'}</button>
    </div>
    ${p.ended === null ? null : html`<p class="error msg" role="alert" data-testid="ended">${p.ended}</p>`}
    <div class="stats">
      <${Stat} name="completed" label="Units done" value=${fmtInt(sum((s) => s.completed))} sub="acknowledged by the tracker" />
      <${Stat} name="computed" label="Computed" value=${fmtInt(sum((s) => s.computed))} sub="in this tab" />
      <${Stat} name="failed" label="Failed" value=${fmtInt(sum((s) => s.failed))} />
      <${Stat} name="credit" label="Credit" value=${credit === null ? '—' : fmtCredit(credit)} sub=${rep === null ? 'after the first verified unit' : `reputation ${rep.toFixed(2)}`} />
    </div>
    <div class="table-wrap"><table class="workers">
      <thead><tr><th>Thread</th><th>State</th><th class="unit-col">Unit</th><th>Progress</th></tr></thead>
      <tbody>${p.statuses.map((s, i) => html`<tr data-testid=${`worker-${i}`}>
        <td>${i + 1}</td>
        <td>${s === null ? 'starting' : STATE_WORDS[s.state] ?? s.state}${s?.message === undefined ? null : html`<div class="small error msg">${s.message}</div>`}</td>
        <td class="unit-col">${s?.unitId == null ? '—' : html`<code title=${s.unitId}>${s.kind} ${short(s.unitId, 10)}</code>`}</td>
        <td>${s === null || s.unitId === null ? '—' : html`<progress max="1" value=${s.progress} aria-label=${`thread ${i + 1} progress`}></progress>`}</td>
      </tr>`)}</tbody>
    </table></div>
  </section>`;
}

function App(): VNode {
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/">Sovereign Swarm</a>
      <nav aria-label="Pages"><a href="/">Swarm</a><a href="/leaderboard">Leaderboard</a><a href="/join" aria-current="page">Join</a></nav>
    </header>
    <main id="main" tabindex="-1"><${JoinPage} /></main>
    <footer class="foot muted small">Your tab computes with the same WebAssembly engine as every other provider, so its results hash the same and can be checked by a quorum.</footer>`;
}

render(html`<${App} />`, document.getElementById('app')!);
