// Entry of the `swarm bench tracker` load process (./bench-tracker-load.ts).
// Plain JS so it starts under plain node: it registers tsx's loader, as
// bin/swarm.mjs does, then runs the TypeScript side.
import { register } from 'tsx/esm/api';

register();
await import('./bench-tracker-load.ts');
