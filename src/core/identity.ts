/** Who made a request, as established by an authenticate-phase stage. */
export interface Identity {
  /** Consumer name (or JWT subject). */
  readonly consumer: string;
  /** Store id of the consumer, when the identity comes from the store. */
  readonly consumerId?: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly tenant?: string;
  /** Verified token claims, when the identity comes from a token. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** How the identity was established. */
  readonly method: 'api_key' | 'jwt' | 'oauth2' | 'mtls' | 'anonymous';
  /** Non-secret identifier of the credential used (key prefix, token jti, cert fingerprint). */
  readonly credentialId?: string;
}
