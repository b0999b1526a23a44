// Runs in a worker thread: checkpoints the WAL on its own connection when asked, so the service's
// event loop never stalls on copying pages and fsync (a PASSIVE checkpoint does not block writers).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { path } = workerData as { path: string };
const db = new Database(path);
db.pragma('busy_timeout = 1000');
parentPort?.on('message', (message) => {
  if (message === 'checkpoint') {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (error) {
      parentPort?.postMessage({ error: String(error) });
    }
  } else if (message === 'close') {
    db.close();
    parentPort?.close();
  }
});
