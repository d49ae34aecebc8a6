/**
 * Revoked access tokens, as the jwt stage sees them: a synchronous membership test over a set that
 * a store keeps current (the OAuth server's revocation list, shared by every gateway process).
 */
export interface TokenRevocations {
  /** True when the token with this `jti` was revoked (RFC 7009) and has not expired yet. */
  isRevoked(jti: string): boolean;
  /** Every token of this OAuth client is revoked (the client was). */
  isClientRevoked(clientId: string): boolean;
}
