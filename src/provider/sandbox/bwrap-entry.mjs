// Entry of a unit process under bubblewrap (./bwrap-sandbox.ts). Plain JS so
// plain node can start it: it registers tsx's loader, as bin/swarm.mjs does,
// then runs the TypeScript side. stdout carries the answer frames only, so
// console output goes to stderr from here on.
import { register } from 'tsx/esm/api';

for (const k of ['log', 'info', 'debug', 'warn']) console[k] = console.error;
register();
await import('./bwrap-main.ts');
