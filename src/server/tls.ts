/**
 * TLS for the HTTPS listener: TLS 1.2 and 1.3 only, AEAD ciphers with forward secrecy, certificate
 * reloaded from disk when it changes, and a generated development certificate when none is configured.
 */
import { existsSync, mkdirSync, readFileSync, statSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import { generate } from 'selfsigned';

/** TLS 1.2 suites (TLS 1.3 suites are Node's defaults, all AEAD). No CBC, no RSA key exchange. */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
  /** CA file for client certificates (`listeners.https.clientCa`). */
  readonly clientCa?: string;
}

export function secureContextOptions(files: CertificateFiles, minVersion: 'TLSv1.2' | 'TLSv1.3'): SecureContextOptions {
  return {
    cert: readFileSync(files.cert),
    key: readFileSync(files.key),
    minVersion,
    maxVersion: 'TLSv1.3',
    ciphers: TLS12_CIPHERS,
    honorCipherOrder: true,
    ecdhCurve: 'X25519:P-256:P-384',
    ...(files.clientCa !== undefined ? { ca: readFileSync(files.clientCa) } : {}),
  };
}

/**
 * Server options for client certificates: requested (so routes without mtls keep working for clients
 * that have none) and verified against `clientCa`; the mtls stage refuses unverified ones.
 */
export function clientCertificateOptions(files: CertificateFiles): { requestCert?: boolean; rejectUnauthorized?: boolean } {
  return files.clientCa === undefined ? {} : { requestCert: true, rejectUnauthorized: false };
}

/**
 * Returns the configured certificate files, or creates (once) a self-signed development
 * certificate for localhost under `<baseDir>/.rampart/tls/`, with a loud warning.
 */
export async function resolveCertificate(
  configured: { cert?: string | undefined; key?: string | undefined; clientCa?: string | undefined },
  baseDir: string,
  logger: Logger,
): Promise<CertificateFiles> {
  const clientCa = configured.clientCa === undefined ? {} : { clientCa: resolve(baseDir, configured.clientCa) };
  if (configured.cert !== undefined && configured.key !== undefined) {
    return { cert: resolve(baseDir, configured.cert), key: resolve(baseDir, configured.key), ...clientCa };
  }
  const dir = join(baseDir, '.rampart', 'tls');
  const files = { cert: join(dir, 'dev-cert.pem'), key: join(dir, 'dev-key.pem') };
  if (!existsSync(files.cert) || !existsSync(files.key)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 90 * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
      ],
    });
    writeFileSync(files.key, pems.private, { mode: 0o600 });
    writeFileSync(files.cert, pems.cert, { mode: 0o644 });
  }
  logger.warn(
    { cert: files.cert },
    '*** NO TLS CERTIFICATE CONFIGURED: serving a self-signed DEVELOPMENT certificate. Set listeners.https.cert and key for production. ***',
  );
  return { ...files, ...clientCa };
}

/** Calls `onChange` when either file's content changes (polling: survives atomic renames). */
export function watchCertificate(files: CertificateFiles, onChange: () => void, intervalMs = 1000): () => void {
  let last = stamp(files);
  const check = (): void => {
    const now = stamp(files);
    if (now !== last) {
      last = now;
      onChange();
    }
  };
  watchFile(files.cert, { interval: intervalMs }, check);
  watchFile(files.key, { interval: intervalMs }, check);
  return () => {
    unwatchFile(files.cert, check);
    unwatchFile(files.key, check);
  };
}

function stamp(files: CertificateFiles): string {
  try {
    const a = statSync(files.cert);
    const b = statSync(files.key);
    return `${a.mtimeMs}:${a.size}:${b.mtimeMs}:${b.size}`;
  } catch {
    return 'missing';
  }
}
