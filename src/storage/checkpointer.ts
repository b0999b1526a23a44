// Starts and stops the WAL checkpoint worker (src/storage/checkpoint-worker.ts).
import { Worker } from 'node:worker_threads';

const CHECKPOINT_INTERVAL_MS = 200;

export class Checkpointer {
  private readonly worker: Worker;

  constructor(path: string, onError: (message: string) => void) {
    // Under tsx the sources run as .ts; built, as .js beside this file.
    const file = import.meta.url.endsWith('.ts') ? './checkpoint-worker.ts' : './checkpoint-worker.js';
    this.worker = new Worker(new URL(file, import.meta.url), { workerData: { path, intervalMs: CHECKPOINT_INTERVAL_MS } });
    this.worker.on('message', (m: { error?: string }) => m.error && onError(m.error));
    this.worker.on('error', (e) => onError(String(e)));
    this.worker.unref();
  }

  /** Asks the worker to stop after any checkpoint under way; it closes its own connection. */
  close(): void {
    this.worker.postMessage('close');
  }
}
