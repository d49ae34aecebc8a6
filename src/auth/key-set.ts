/**
 * Verification keys for JWT stages: static JWKs, PEM public keys, an HMAC secret, or a remote JWKS
 * document with caching, background refresh and an immediate (rate-limited) refetch when a token
 * names a `kid` we do not know yet, which is how identity providers roll keys.
 *
 * Key selection is by algorithm family first: an HMAC algorithm only ever selects the configured
 * secret and an asymmetric algorithm only ever selects a public key of the matching type and curve.
 * That rule is what makes algorithm confusion (HS256 "signed" with the RSA public key) impossible,
 * independently of the algorithm allowlist and of jose's own checks.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { request } from 'undici';
import type { JWK } from 'jose';

export interface KeyEntry {
  readonly kid: string | undefined;
  /** `alg` named by the JWK, if any: the key is then used with that algorithm only. */
  readonly alg: string | undefined;
  readonly key: KeyObject;
}

export interface RemoteJwksOptions {
  readonly url: string;
  /** Background refresh period, milliseconds. */
  readonly refreshMs: number;
  /** Minimum time between two refetches triggered by unknown `kid`s, milliseconds. */
  readonly minRefetchMs: number;
  /** Whole-fetch timeout, milliseconds. */
  readonly timeoutMs: number;
}

export interface KeySetOptions {
  readonly jwks?: readonly JWK[];
  readonly pem?: readonly string[];
  readonly secret?: string;
  readonly remote?: RemoteJwksOptions;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** Largest JWKS document accepted, bytes: a hostile or broken IdP must not exhaust memory. */
const MAX_JWKS_BYTES = 256 * 1024;

/** Why no key was found (for the failure reason; never sent to clients). */
export class KeyNotFound extends Error {}

/** Whether `key` may verify a signature made with `alg` (type, and curve for EC/OKP keys). */
export function keyFitsAlgorithm(key: KeyObject, alg: string): boolean {
  if (alg.startsWith('HS')) return key.type === 'secret';
  if (key.type !== 'public') return false;
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss';
  if (alg === 'ES256') return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  if (alg === 'ES384') return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp384r1';
  if (alg === 'ES512') return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp521r1';
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  if (alg === 'Ed25519') return type === 'ed25519';
  return false;
}

/** Imports the public part of a JWK; symmetric (`oct`) keys are refused here (secrets come only from `secret`). */
export function importPublicJwk(jwk: JWK): KeyEntry {
  if (jwk.kty === 'oct') throw new Error('symmetric (oct) keys are not accepted in a key set; configure an HMAC secret instead');
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new Error(`key ${jwk.kid ?? ''} is not a signature key (use=${jwk.use})`);
  // Only public members: a JWKS that leaks private parts must not make us hold them.
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...pub } = jwk as JWK & { oth?: unknown };
  const key = createPublicKey({ key: pub as import('node:crypto').JsonWebKey, format: 'jwk' });
  return { kid: jwk.kid, alg: jwk.alg, key };
}

/**
 * A set of verification keys. `resolve` is called by the verifier with the token's protected header.
 *
 * @example
 *   const keys = new KeySet({ remote: { url: 'https://idp/jwks', refreshMs: 300_000, minRefetchMs: 10_000, timeoutMs: 5000 }, logger });
 *   await keys.start();
 *   const key = await keys.resolve({ alg: 'RS256', kid: 'k1' });
 */
export class KeySet {
  private staticKeys: KeyEntry[] = [];
  private remoteKeys: KeyEntry[] = [];
  /** Last refetch caused by an unknown kid (background refreshes do not count: a rotation right after one must still be seen). */
  private lastKidRefetch = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: KeySetOptions) {
    this.now = options.now ?? Date.now;
    for (const jwk of options.jwks ?? []) this.staticKeys.push(importPublicJwk(jwk));
    for (const pem of options.pem ?? []) {
      const key = createPublicKey(pem);
      this.staticKeys.push({ kid: undefined, alg: undefined, key });
    }
    if (options.secret !== undefined) this.staticKeys.push({ kid: undefined, alg: undefined, key: createSecretKey(Buffer.from(options.secret, 'utf8')) });
  }

  /** First fetch of a remote JWKS (failure is logged, not fatal: the IdP may come up later) and the refresh timer. */
  async start(): Promise<void> {
    const remote = this.options.remote;
    if (remote === undefined) return;
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), remote.refreshMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Number of keys currently usable (static and fetched). */
  get size(): number {
    return this.staticKeys.length + this.remoteKeys.length;
  }

  /** The key for a token header, refetching the remote JWKS once (rate-limited) when the `kid` is unknown. */
  async resolve(header: { alg?: string; kid?: string }): Promise<KeyObject> {
    const alg = header.alg;
    if (alg === undefined) throw new KeyNotFound('token header has no alg');
    const found = this.select(alg, header.kid);
    if (found !== undefined) return found;
    const remote = this.options.remote;
    if (remote !== undefined && header.kid !== undefined && this.now() - this.lastKidRefetch >= remote.minRefetchMs) {
      this.lastKidRefetch = this.now();
      await this.refresh();
      const again = this.select(alg, header.kid);
      if (again !== undefined) return again;
    }
    throw new KeyNotFound(header.kid === undefined ? `no unique key for ${alg} and the token names no kid` : `no ${alg} key with kid ${JSON.stringify(header.kid.slice(0, 64))}`);
  }

  private select(alg: string, kid: string | undefined): KeyObject | undefined {
    let match: KeyObject | undefined;
    let count = 0;
    for (const list of [this.staticKeys, this.remoteKeys]) {
      for (const entry of list) {
        if (kid !== undefined && entry.kid !== undefined && entry.kid !== kid) continue;
        if (kid !== undefined && entry.kid === undefined && list === this.remoteKeys) continue;
        if (entry.alg !== undefined && entry.alg !== alg) continue;
        if (!keyFitsAlgorithm(entry.key, alg)) continue;
        // A kid names exactly one key; without one, only an unambiguous key set is usable.
        if (kid !== undefined && entry.kid === kid) return entry.key;
        match ??= entry.key;
        count++;
      }
    }
    return count === 1 ? match : undefined;
  }

  /** Fetches the remote JWKS; concurrent callers share one fetch; on failure the previous keys stay. */
  refresh(): Promise<void> {
    this.inflight ??= this.fetchRemote().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async fetchRemote(): Promise<void> {
    const remote = this.options.remote;
    if (remote === undefined) return;
    try {
      const res = await request(remote.url, {
        headers: { accept: 'application/jwk-set+json, application/json' },
        headersTimeout: remote.timeoutMs,
        bodyTimeout: remote.timeoutMs,
        signal: AbortSignal.timeout(remote.timeoutMs),
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`JWKS answered ${res.statusCode}`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_JWKS_BYTES) {
          res.body.destroy();
          throw new Error(`JWKS larger than ${MAX_JWKS_BYTES} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
      const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { keys?: unknown };
      if (!Array.isArray(doc.keys)) throw new Error('JWKS has no keys array');
      const keys: KeyEntry[] = [];
      for (const jwk of doc.keys as JWK[]) {
        try {
          keys.push(importPublicJwk(jwk));
        } catch (err) {
          // One unusable key (an encryption key, an unknown curve) must not drop the others.
          this.options.logger.debug({ kid: jwk.kid, err: (err as Error).message }, 'JWKS key skipped');
        }
      }
      this.remoteKeys = keys;
    } catch (err) {
      this.options.logger.warn({ url: remote.url, err: (err as Error).message }, 'JWKS fetch failed; keeping the previous keys');
    }
  }
}
