// What serving over TLS needs: one certificate chain and its private key, in PEM.
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
}
