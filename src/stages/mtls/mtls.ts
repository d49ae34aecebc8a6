import { z } from 'zod';
import type { Identity } from '../../core/identity.js';
import { authFailure } from '../../auth/failure.js';
import { clientCertificate, type ClientCertificate } from '../../auth/certificate.js';
import { defineStage } from '../definition.js';

const identityEntry = z
  .object({
    consumer: z.string().min(1).max(256),
    roles: z.array(z.string().min(1)).default([]),
    scopes: z.array(z.string().min(1)).default([]),
    tenant: z.string().optional(),
  })
  .strict();

const mtlsOptions = z
  .object({
    type: z.literal('mtls'),
    /**
     * Which certificate field names the consumer: `subject.cn`, the first `san.dns` / `san.uri` /
     * `san.email`, or the SHA-256 `fingerprint` (hex, lower case).
     */
    consumerFrom: z.enum(['subject.cn', 'san.dns', 'san.uri', 'san.email', 'fingerprint']).default('subject.cn'),
    /**
     * Optional allowlist: field value → consumer (a name, or `{ consumer, roles, scopes, tenant }`).
     * When given, a verified certificate whose value is not listed is refused.
     */
    consumers: z.record(z.string().min(1), z.union([z.string().min(1).max(256), identityEntry])).optional(),
    /** Roles and scopes of identities named directly by the certificate (no `consumers` entry). */
    roles: z.array(z.string().min(1)).default([]),
    scopes: z.array(z.string().min(1)).default([]),
  })
  .strict();

const SAN_PREFIX = { 'san.dns': 'DNS:', 'san.uri': 'URI:', 'san.email': 'email:' } as const;

function fieldValue(cert: ClientCertificate, from: z.infer<typeof mtlsOptions>['consumerFrom']): string | undefined {
  if (from === 'subject.cn') return cert.subjectCN;
  if (from === 'fingerprint') return cert.fingerprint;
  const prefix = SAN_PREFIX[from];
  const entry = cert.san.find((s) => s.startsWith(prefix));
  return entry?.slice(prefix.length);
}

/**
 * `mtls`: authenticates by the TLS client certificate. The HTTPS listener requests (never requires)
 * a certificate when `listeners.https.clientCa` is set and verifies its chain against that CA file;
 * this stage admits only verified certificates and maps one field to the consumer.
 *
 * @example
 *   listeners: { https: { clientCa: certs/clients-ca.pem } }
 *   stages: [{ type: mtls, consumerFrom: san.uri, consumers: { 'spiffe://prod/billing': billing } }]
 */
export const mtlsStage = defineStage({
  type: 'mtls',
  phase: 'authenticate',
  options: mtlsOptions,
  create(options) {
    const mapped = new Map<string, Identity>();
    for (const [value, entry] of Object.entries(options.consumers ?? {})) {
      const e = typeof entry === 'string' ? { consumer: entry, roles: options.roles, scopes: options.scopes, tenant: undefined } : entry;
      mapped.set(value, Object.freeze({ consumer: e.consumer, roles: e.roles, scopes: e.scopes, method: 'mtls', ...(e.tenant !== undefined ? { tenant: e.tenant } : {}) }));
    }
    return {
      name: 'mtls',
      phase: 'authenticate',
      handle(ctx) {
        const cert = clientCertificate(ctx.req.socket);
        if (cert === undefined) return;
        const fail = (reason: string): never => {
          throw authFailure(ctx, {
            source: 'mtls',
            code: 'RAMPART_AUTH_INVALID_CERTIFICATE',
            reason,
            challenge: ctx.route!.challenge,
            data: { fingerprint: cert.fingerprint },
          });
        };
        if (!cert.authorized) fail(`client certificate not verified: ${cert.error ?? 'unknown reason'}`);
        const value = fieldValue(cert, options.consumerFrom);
        if (value === undefined || value === '' || value.length > 256) fail(`client certificate has no usable ${options.consumerFrom}`);
        let identity: Identity;
        if (options.consumers !== undefined) {
          const found = mapped.get(value!);
          if (found === undefined) {
            ctx.attemptedPrincipal = value;
            return fail(`${options.consumerFrom} ${JSON.stringify(value)} is not in the consumers list`);
          }
          identity = found;
        } else {
          identity = { consumer: value!, roles: options.roles, scopes: options.scopes, method: 'mtls' };
        }
        ctx.identity = { ...identity, credentialId: cert.fingerprint };
      },
    };
  },
});
