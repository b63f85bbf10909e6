/** Where the browser tests find Chromium: Debian's package (`apt-get install chromium`), driven by playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';

/** Launch flags for a headless run in a container (no sandbox: CI runs as root; no GPU; no background traffic). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
