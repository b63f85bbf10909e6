/**
 * Where `swarm bench browser` and the browser tests find Chromium: Debian's
 * package (`apt-get install chromium`), driven by playwright-core
 * (`npx playwright install` cannot download browsers here).
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Launch flags for a headless run in a container (no sandbox: CI runs as root; no GPU; no background traffic). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
