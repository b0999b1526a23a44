// Asks the WAL checkpoint worker (src/storage/checkpoint-worker.ts) for a checkpoint each time
// about as much has been written as SQLite's own auto-checkpoint waits for (1000 pages).
import { Worker } from 'node:worker_threads';

export const CHECKPOINT_EVERY_BYTES = 1000 * 4096;
/**
 * What a commit adds to the WAL besides its rows' bytes: whole pages, at least one for each b-tree
 * it changes (a table and its unique index). Counted by rows alone, the one-row commits of served
 * batches asked for no checkpoint before 65,536 of them (src/DESIGN.md, "WAL checkpoints").
 */
const COMMIT_OVERHEAD_BYTES = 2 * 4096;
/** How long close() waits for the worker to close its connection (a checkpoint under way included). */
const CLOSE_WAIT_MS = 30_000;

export class Checkpointer {
  private readonly worker: Worker;
  /** Set to 1 by the worker once its connection is closed. */
  private readonly closedFlag = new Int32Array(new SharedArrayBuffer(4));
  private written = 0;
  private asked = false;
  private closed = false;

  constructor(path: string, onError: (message: string) => void) {
    // Started now, so it is ready by the first checkpoint; it opens the file only when asked for one.
    // Under tsx the sources run as .ts; built, as .js beside this file.
    const file = import.meta.url.endsWith('.ts') ? './checkpoint-worker.ts' : './checkpoint-worker.js';
    this.worker = new Worker(new URL(file, import.meta.url), { workerData: { path, closedFlag: this.closedFlag } });
    this.worker.on('message', (m: { error?: string }) => m.error && onError(m.error));
    this.worker.on('error', (e) => {
      Atomics.store(this.closedFlag, 0, 1); // a dead worker holds no connection
      onError(String(e));
    });
    this.worker.unref();
  }

  /** Counts one commit of `bytes` of rows; past the threshold, the worker checkpoints. */
  committed(bytes: number): void {
    this.written += bytes + COMMIT_OVERHEAD_BYTES;
    if (this.written >= CHECKPOINT_EVERY_BYTES) {
      this.written = 0;
      this.asked = true;
      this.worker.postMessage('checkpoint');
    }
  }

  /**
   * Stops the worker after any checkpoint under way. Once this returns, nothing in this process
   * opens or writes the file.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.asked) {
      void this.worker.terminate(); // it never opened the file, and now never will
      return;
    }
    this.worker.postMessage('close');
    // Blocking on purpose: close() is synchronous, and the worker closes on its own thread.
    Atomics.wait(this.closedFlag, 0, 0, CLOSE_WAIT_MS);
  }
}
