/** Test PKI: CAs and client certificates generated per test run (selfsigned, EC P-256). */
import { createHash, X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

export interface Pem {
  cert: string;
  key: string;
}

export async function makeCa(name: string): Promise<Pem> {
  const r = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: r.cert, key: r.private };
}

export async function makeClientCert(ca: Pem | undefined, cn: string, options: { uri?: string; notAfter?: Date; notBefore?: Date } = {}): Promise<Pem> {
  const r = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ...(ca !== undefined ? { ca } : {}),
    ...(options.notBefore !== undefined ? { notBeforeDate: options.notBefore } : {}),
    ...(options.notAfter !== undefined ? { notAfterDate: options.notAfter } : {}),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
      ...(options.uri !== undefined ? [{ name: 'subjectAltName' as const, altNames: [{ type: 6 as const, value: options.uri }] }] : []),
    ],
  });
  return { cert: r.cert, key: r.private };
}

/** RFC 8705 `x5t#S256` of a PEM certificate. */
export function thumbprint(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('base64url');
}
