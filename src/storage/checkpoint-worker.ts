// Runs in a worker thread: checkpoints the WAL on its own connection, so the service's event
// loop never stalls on copying pages and fsync (a PASSIVE checkpoint does not block writers).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort?.postMessage({ error: String(error) });
  }
}, intervalMs);
parentPort?.on('message', (message) => {
  if (message === 'close') {
    clearInterval(timer);
    db.close();
    parentPort?.close();
  }
});
