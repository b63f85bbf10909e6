/**
 * Inside the worker sandbox's thread: build an engine, run the unit on the
 * blobs the parent transferred, post progress and then exactly one of
 * {result} or {error} (./unit-messages.ts, shared with the browser's Web
 * Worker). The result's buffer is transferred back, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serveUnit } from './unit-messages.ts';
import type { WorkerInput } from './unit-messages.ts';
import { createUnitEngine } from './unit-engine.ts';

const port = parentPort;
if (port === null) throw new Error('worker-main.ts must run in a worker thread');
await serveUnit(workerData as WorkerInput, (i) => createUnitEngine(i.backend, i.threads, i.memoryMb), (m, transfer = []) => port.postMessage(m, transfer));
