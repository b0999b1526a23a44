// Asks the WAL checkpoint worker (src/storage/checkpoint-worker.ts) for a checkpoint each time
// about as much has been written as SQLite's own auto-checkpoint waits for (1000 pages).
import { Worker } from 'node:worker_threads';

const CHECKPOINT_EVERY_BYTES = 1000 * 4096;

export class Checkpointer {
  private readonly worker: Worker;
  private written = 0;

  constructor(path: string, onError: (message: string) => void) {
    // Under tsx the sources run as .ts; built, as .js beside this file.
    const file = import.meta.url.endsWith('.ts') ? './checkpoint-worker.ts' : './checkpoint-worker.js';
    this.worker = new Worker(new URL(file, import.meta.url), { workerData: { path } });
    this.worker.on('message', (m: { error?: string }) => m.error && onError(m.error));
    this.worker.on('error', (e) => onError(String(e)));
    this.worker.unref();
  }

  /** Counts bytes committed; past the threshold, the worker checkpoints. */
  wrote(bytes: number): void {
    this.written += bytes;
    if (this.written >= CHECKPOINT_EVERY_BYTES) {
      this.written = 0;
      this.worker.postMessage('checkpoint');
    }
  }

  /** Asks the worker to stop after any checkpoint under way; it closes its own connection. */
  close(): void {
    this.worker.postMessage('close');
  }
}
