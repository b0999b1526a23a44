// Runs in a worker thread: checkpoints the WAL on its own connection when asked, so the service's
// event loop never stalls on copying pages and fsync (a PASSIVE checkpoint does not block writers).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { path, closedFlag } = workerData as { path: string; closedFlag: Int32Array };
/** After a request, the worker follows the writer for at most this long, a pass per pause. */
const FOLLOW_MS = 1000;
const PAUSE_MS = 50;
const pause = new Int32Array(new SharedArrayBuffer(4));

// Opened on the first request: a storage closed before any checkpoint never sees this thread touch the file.
let db: Database.Database | undefined;

function pass(): { log: number; checkpointed: number } {
  if (!db) {
    db = new Database(path);
    db.pragma('busy_timeout = 1000');
  }
  const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
  return result ?? { log: 0, checkpointed: 0 };
}

// The WAL is rewound to its start only by a transaction that begins when every frame has been
// copied. Under steady writes one pass rarely ends in such a gap, so the WAL would grow without
// bound: follow the writer until a write rewinds it, or it pauses with everything copied.
function checkpointUntilRewound(): void {
  let last = pass();
  for (const deadline = Date.now() + FOLLOW_MS; Date.now() < deadline; ) {
    Atomics.wait(pause, 0, 0, PAUSE_MS);
    const now = pass();
    if (now.log < last.log) return; // rewound
    if (now.log === last.log && now.log === now.checkpointed) return; // idle: the next write rewinds
    last = now;
  }
}

parentPort?.on('message', (message) => {
  if (message === 'checkpoint') {
    try {
      checkpointUntilRewound();
    } catch (error) {
      parentPort?.postMessage({ error: String(error) });
    }
  } else if (message === 'close') {
    db?.close();
    // The storage's close() waits on this flag.
    Atomics.store(closedFlag, 0, 1);
    Atomics.notify(closedFlag, 0);
    parentPort?.close();
  }
});
