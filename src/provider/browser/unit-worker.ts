/**
 * Entry of the Web Worker that runs one unit for the browser provider
 * (./web-worker-sandbox.ts): the wasm backend on one thread, its memory
 * capped to the tab's budget, then the same serveUnit as the Node sandbox's
 * worker (../sandbox/unit-messages.ts). Bundled by scripts/build-web.mjs
 * into build/web/join/assets/unit-worker.js.
 */
import { Engine } from '../../tensor/tensor.ts';
import { createWasmBackend } from '../../tensor/wasm/backend.ts';
import { maxElementsFor } from '../sandbox/sandbox.ts';
import { serveUnit } from '../sandbox/unit-messages.ts';
import type { WorkerInput, WorkerMessage } from '../sandbox/unit-messages.ts';

/** The worker's global scope, as far as used here (no DOM types in this layer). */
declare const self: {
  onmessage: ((ev: { data: WorkerInput }) => void) | null;
  postMessage(m: WorkerMessage, transfer: ArrayBuffer[]): void;
};

self.onmessage = (ev) => {
  self.onmessage = null; // one unit per worker
  void serveUnit(
    ev.data,
    async (i) => new Engine(await createWasmBackend({ threads: 1, maxElements: maxElementsFor(i.memoryMb) })),
    (m, transfer = []) => self.postMessage(m, transfer),
  );
};
