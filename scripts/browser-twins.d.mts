import type { Plugin } from 'esbuild';

/** See ./browser-twins.mjs. */
export declare const browserTwins: Plugin;
