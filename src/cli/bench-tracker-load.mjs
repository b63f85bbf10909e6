// Entry of a `swarm bench tracker` load thread (./bench-tracker-load.ts). Plain
// JS so it loads under plain node: it registers tsx's loader in this thread,
// as bin/swarm.mjs does for the main one, then runs the TypeScript side.
import { register } from 'tsx/esm/api';

register();
await import('./bench-tracker-load.ts');
