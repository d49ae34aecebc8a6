/**
 * The client certificate of a request's TLS connection, computed once per connection.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket, type DetailedPeerCertificate } from 'node:tls';

export interface ClientCertificate {
  /** True when the chain verified against the listener's `clientCa` (and dates are valid). */
  readonly authorized: boolean;
  /** OpenSSL's reason when not authorized. */
  readonly error: string | undefined;
  /** RFC 8705 thumbprint: base64url(SHA-256(DER)), as in `cnf.x5t#S256`. */
  readonly thumbprint: string;
  /** Hex SHA-256 fingerprint, colon-free lower case. */
  readonly fingerprint: string;
  readonly subjectCN: string | undefined;
  /** Subject alternative names as `DNS:x`, `URI:x`, `email:x`, `IP Address:x`. */
  readonly san: readonly string[];
}

const cache = new WeakMap<Socket, ClientCertificate | null>();

/**
 * The verified-or-not client certificate of this connection, or undefined when none was sent.
 *
 * @example
 *   const cert = clientCertificate(req.socket); if (cert?.authorized) use(cert.fingerprint);
 */
export function clientCertificate(socket: Socket): ClientCertificate | undefined {
  const known = cache.get(socket);
  if (known !== undefined) return known ?? undefined;
  let result: ClientCertificate | null = null;
  if (socket instanceof TLSSocket) {
    const peer = socket.getPeerCertificate(false) as DetailedPeerCertificate | Record<string, never>;
    if (peer !== null && 'raw' in peer && peer.raw !== undefined) {
      const digest = createHash('sha256').update(peer.raw).digest();
      const cn = peer.subject?.CN;
      result = {
        authorized: socket.authorized,
        error: socket.authorizationError === null || socket.authorizationError === undefined ? undefined : String(socket.authorizationError),
        thumbprint: digest.toString('base64url'),
        fingerprint: digest.toString('hex'),
        subjectCN: Array.isArray(cn) ? cn[0] : cn,
        san: peer.subjectaltname === undefined ? [] : peer.subjectaltname.split(', ').filter((s) => s !== ''),
      };
    }
  }
  cache.set(socket, result);
  return result ?? undefined;
}
