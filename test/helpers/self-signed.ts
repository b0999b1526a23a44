// A throwaway self-signed certificate for localhost (and, unless told otherwise, 127.0.0.1),
// written to a temporary folder.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

export interface TestCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  /** The certificate itself: what a client trusts. */
  readonly cert: Buffer;
}

export async function selfSignedCertificate(t: { after: (fn: () => void) => void }, { withAddress = true } = {}): Promise<TestCertificate> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, ...(withAddress ? [{ type: 7 as const, ip: '127.0.0.1' }] : [])] },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'recency-sampler-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  writeFileSync(certPath, pems.cert);
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  return { certPath, keyPath, cert: Buffer.from(pems.cert) };
}
