/**
 * Which paths are the dashboard's pages: everything but what the tracker
 * serves itself (/api, /ledger/v1, the gateway's /v1, the bundle's /assets)
 * and the join page (/join, an app of its own: a link to it is a full load).
 * Shared by the client router (router.ts) and the server that answers page
 * paths with index.html (src/cli/dashboard.ts), so the two agree.
 */
export function isPagePath(pathname: string): boolean {
  return !/^\/(api|ledger\/v1|v1|assets|join)(\/|$)/.test(pathname);
}
