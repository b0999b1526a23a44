// One service per database file: a second writer would draw other batches for the same steps and
// lose reports on recovery. The lock is SQLite's own file lock on a side file, held for the life
// of the connection; the OS drops it when the process dies, kill -9 included, so it never goes stale.
import Database from 'better-sqlite3';
import { StorageRefused } from './storage-refused.js';

export class WriterLock {
  private readonly db: Database.Database;

  constructor(dbPath: string) {
    const lockPath = `${dbPath}.lock`;
    this.db = new Database(lockPath, { timeout: 0 });
    try {
      // EXCLUSIVE locking mode keeps the lock taken by the first write until the connection closes.
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.exec('CREATE TABLE IF NOT EXISTS writer (pid INTEGER); DELETE FROM writer;');
      this.db.prepare('INSERT INTO writer (pid) VALUES (?)').run(process.pid);
    } catch (error) {
      this.db.close();
      if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
        throw new StorageRefused(
          `database ${dbPath} is in use by another recency-sampler (it holds ${lockPath}); ` +
            'one service per database: stop the other one, or give this one another --db',
        );
      }
      throw error;
    }
  }

  release(): void {
    this.db.close();
  }
}
