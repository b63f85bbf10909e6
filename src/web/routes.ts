/**
 * The page each path names: pure (no DOM, no Preact), so the server side
 * and the tests can use it too. router.ts does the browser's part.
 */
export type Route =
  | { page: 'swarm' }
  | { page: 'run'; id: string }
  | { page: 'leaderboard' }
  | { page: 'provider'; id: string }
  | { page: 'ledger' }
  | { page: 'entry'; index: number }
  | { page: 'chat' }
  | { page: 'releases' }
  | { page: 'release'; name: string }
  | { page: 'not-found'; path: string };

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The page a path names (pure: tested in test/web/routes.test.ts). */
export function matchRoute(pathname: string): Route {
  const parts = pathname.split('/').filter((p) => p !== '');
  const notFound: Route = { page: 'not-found', path: pathname };
  const [a, b, c] = parts;
  if (parts.length === 0) return { page: 'swarm' };
  if (parts.length === 1 && a === 'leaderboard') return { page: 'leaderboard' };
  if (parts.length === 1 && a === 'ledger') return { page: 'ledger' };
  if (parts.length === 1 && a === 'chat') return { page: 'chat' };
  if (parts.length === 1 && a === 'releases') return { page: 'releases' };
  if (parts.length === 2 && (a === 'runs' || a === 'providers' || a === 'releases')) {
    const id = decode(b!);
    if (id === undefined || id === '') return notFound;
    return a === 'runs' ? { page: 'run', id } : a === 'providers' ? { page: 'provider', id } : { page: 'release', name: id };
  }
  if (parts.length === 3 && a === 'ledger' && b === 'entry' && /^(0|[1-9][0-9]{0,15})$/.test(c!)) return { page: 'entry', index: Number(c) };
  return notFound;
}
