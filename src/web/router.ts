/**
 * Client-side routing of the one-page app: the tracker answers index.html
 * for every page path (src/cli/dashboard.ts PAGE_PATHS), and here the path
 * picks the page (routes.ts). Links stay plain <a href> (they work with a middle click,
 * a copy, or without JavaScript's help); a click on one that names a page
 * is turned into history.pushState instead of a reload.
 */
import { useEffect, useState } from 'preact/hooks';
import { isPagePath } from './paths.ts';

const NAVIGATE = 'swarm:navigate';

export function navigate(href: string): void {
  history.pushState(null, '', href);
  window.dispatchEvent(new Event(NAVIGATE));
  window.scrollTo(0, 0);
}

/** Turns clicks on same-origin page links into client-side navigation. */
export function interceptLinks(doc: Document): void {
  doc.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (a === null || a === undefined || a.target !== '' || a.hasAttribute('download') || a.origin !== location.origin || !isPagePath(a.pathname)) return;
    e.preventDefault();
    navigate(a.pathname + a.search);
  });
}

/** The current path and query, updated on navigation and on back/forward. */
export function useLocation(): { pathname: string; search: string } {
  const read = (): { pathname: string; search: string } => ({ pathname: location.pathname, search: location.search });
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const on = (): void => setLoc(read());
    window.addEventListener('popstate', on);
    window.addEventListener(NAVIGATE, on);
    return () => {
      window.removeEventListener('popstate', on);
      window.removeEventListener(NAVIGATE, on);
    };
  }, []);
  return loc;
}
