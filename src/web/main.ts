/**
 * The dashboard (issue 17; DESIGN.md "Anyone: the dashboard"): one Preact
 * app, routed on the client (router.ts), reading the tracker's JSON API.
 * Bundled by scripts/build-web.mjs into build/web/ and served by the tracker
 * (src/cli/dashboard.ts); nothing is loaded from anywhere else.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { html, render } from 'htm/preact';
import type { VNode } from 'preact';
import { NotFound } from './components.ts';
import { ChatPage } from './pages/chat.ts';
import { LeaderboardPage, ProviderPage } from './pages/leaderboard.ts';
import { ReleasePage, ReleasesPage } from './pages/release.ts';
import { EntryPage, LedgerPage } from './pages/ledger.ts';
import { RunPage } from './pages/run.ts';
import { SwarmPage } from './pages/swarm.ts';
import { interceptLinks, useLocation } from './router.ts';
import { matchRoute } from './routes.ts';
import type { Route } from './routes.ts';

const NAV: Array<{ href: string; label: string; pages: Route['page'][] }> = [
  { href: '/', label: 'Swarm', pages: ['swarm', 'run'] },
  { href: '/leaderboard', label: 'Leaderboard', pages: ['leaderboard', 'provider'] },
  { href: '/releases', label: 'Releases', pages: ['releases', 'release'] },
  { href: '/ledger', label: 'Ledger', pages: ['ledger', 'entry'] },
  { href: '/chat', label: 'Chat', pages: ['chat'] },
  // its own app (src/web/join): a full page load
  { href: '/join', label: 'Join', pages: [] },
];

const TITLES: Record<Route['page'], string> = {
  swarm: 'Swarm', run: 'Run', leaderboard: 'Leaderboard', provider: 'Provider', ledger: 'Ledger', entry: 'Ledger entry', chat: 'Chat', releases: 'Releases', release: 'Release', 'not-found': 'Not found',
};

function page(r: Route, search: string): VNode {
  switch (r.page) {
    case 'swarm': return html`<${SwarmPage} />`;
    case 'run': return html`<${RunPage} key=${r.id} id=${r.id} />`;
    case 'leaderboard': return html`<${LeaderboardPage} />`;
    case 'provider': return html`<${ProviderPage} key=${r.id} id=${r.id} />`;
    case 'ledger': return html`<${LedgerPage} search=${search} />`;
    case 'entry': return html`<${EntryPage} key=${r.index} index=${r.index} />`;
    case 'chat': return html`<${ChatPage} />`;
    case 'releases': return html`<${ReleasesPage} />`;
    case 'release': return html`<${ReleasePage} key=${r.name} name=${r.name} />`;
    case 'not-found': return html`<${NotFound} what="page" id=${r.path} />`;
  }
}

function App(): VNode {
  const { pathname, search } = useLocation();
  const route = matchRoute(pathname);
  document.title = `${TITLES[route.page]} · Sovereign Swarm`;
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/">Sovereign Swarm</a>
      <nav aria-label="Pages">
        ${NAV.map((n) => html`<a href=${n.href} aria-current=${n.pages.includes(route.page) ? 'page' : undefined}>${n.label}</a>`)}
      </nav>
    </header>
    <main id="main" tabindex="-1">${page(route, search)}</main>
    <footer class="foot muted small">Volunteer compute for open models. Every number here is read from this tracker's <a href="/api/swarm">JSON API</a>.</footer>`;
}

interceptLinks(document);
render(html`<${App} />`, document.getElementById('app')!);
