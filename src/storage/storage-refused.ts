// Why the service will not open a database, in words that name the file and the fix: printed at
// start-up without a stack trace, since nothing is wrong with the program.
export class StorageRefused extends Error {
  override readonly name = 'StorageRefused';
}
