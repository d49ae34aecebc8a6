import type { Services } from '../core/services.js';
import type { CredentialHasher } from '../keys/hash.js';
import { createAdminAuthenticator, registerEnvToken } from './admin-auth.js';
import { openApiDocument } from './openapi.js';
import type { AdminAuthenticator, AdminRoute } from './server.js';
import { adminTokenRoutes } from './resources/admin-tokens.js';
import { consumerRoutes } from './resources/consumers.js';
import { keyRoutes } from './resources/keys.js';

/**
 * The admin API's authenticator and resources for consumers, keys and admin tokens, plus the
 * OpenAPI document of every route given (pass other modules' routes in `extra`). Registers
 * `RAMPART_ADMIN_TOKEN` from `env` when set.
 *
 * @example
 *   startAdminServer(config.admin, services, { ready, ...(await adminSetup(services, hasher, process.env)) });
 */
export async function adminSetup(
  services: Services,
  hasher: CredentialHasher,
  env: NodeJS.ProcessEnv,
  extra: readonly AdminRoute[] = [],
): Promise<{ routes: AdminRoute[]; authenticate: AdminAuthenticator }> {
  if (await registerEnvToken(services.store, hasher, env.RAMPART_ADMIN_TOKEN)) {
    services.logger.info('RAMPART_ADMIN_TOKEN registered as an admin token');
    services.emit({ type: 'admin.change', severity: 'info', source: 'admin', time: Date.now(), data: { action: 'admin_token.register_env', actor: 'environment' } });
  } else if ((await services.store.countActiveAdminTokens()) === 0) {
    services.logger.warn('no admin token exists yet: run `rampart admin bootstrap` or set RAMPART_ADMIN_TOKEN');
  }
  const routes: AdminRoute[] = [...consumerRoutes(services), ...keyRoutes(services), ...adminTokenRoutes(services, hasher), ...extra];
  const openapi: AdminRoute = { method: 'GET', path: '/admin/v1/openapi.json', handle: () => document };
  const document = openApiDocument([...routes, openapi]);
  return {
    routes: [...routes, openapi],
    authenticate: createAdminAuthenticator(services.store, hasher, {
      onFailure: (ip, reason) =>
        services.emit({ type: 'admin.auth.failure', severity: 'medium', source: 'admin', time: Date.now(), clientIp: ip, reason, code: 'RAMPART_ADMIN_UNAUTHORIZED' }),
    }),
  };
}
