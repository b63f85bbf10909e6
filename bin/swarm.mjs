#!/usr/bin/env node
// Entry point of the `swarm` command. The project ships TypeScript sources
// and runs them through tsx's loader (registered here), so there is no build
// step between `npm install` and `swarm` besides the WASM kernels.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
