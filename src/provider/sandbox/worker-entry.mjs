// Entry of the worker sandbox's thread (./worker-sandbox.ts). Plain JS so it
// loads under plain node: it registers tsx's loader in this thread, as
// bin/swarm.mjs does for the main one, then runs the TypeScript side.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
