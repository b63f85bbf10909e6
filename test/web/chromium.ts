/** Where the browser tests find Chromium, and how they launch it: the same as `swarm bench browser` (src/cli/chromium.ts). */
export { CHROMIUM_ARGS, CHROMIUM_PATH as CHROMIUM } from '../../src/cli/chromium.ts';
