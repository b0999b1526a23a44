// Row checksums: SQLite checks the structure of its pages (quick_check at start-up), not the bytes
// of a blob, so a damaged byte inside a window or a report would otherwise be read as data.
import { crc32 } from 'node:zlib';
import { StorageRefused } from './storage-refused.js';

export type Field = Uint8Array | string | number | null;

/** CRC-32 of a row's fields in order; the encoding keeps null, '' and an empty blob apart. */
export function rowChecksum(fields: readonly Field[]): number {
  let crc = 0;
  for (const field of fields) {
    if (field === null) crc = crc32('n;', crc);
    else if (typeof field === 'object') crc = crc32(field, crc32(`b${field.byteLength};`, crc));
    else crc = crc32(`${typeof field === 'number' ? 'i' : 's'}${field};`, crc);
  }
  return crc;
}

/** Throws, naming the file, the row and the fix, unless the row matches the checksum it was written with. */
export function verifyRow(path: string, what: string, stored: number | null, fields: readonly Field[]): void {
  if (stored === null) return; // written before checksums existed
  if (rowChecksum(fields) === stored) return;
  throw new StorageRefused(
    `database ${path} is damaged: ${what} does not match its checksum. Restore the file from a backup, ` +
      'or move it away to start with an empty database',
  );
}
