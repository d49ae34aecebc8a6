import { z } from 'zod';
import { RampartError } from '../../core/errors.js';
import { defineStage } from '../definition.js';

const oauth2ServerOptions = z.object({ type: z.literal('oauth2_server') }).strict();

/**
 * `oauth2_server`: mounts the built-in OAuth 2.0 server (configured in the top-level `oauth:`
 * section) on a route: `/oauth/token`, `/oauth/introspect`, `/oauth/revoke`,
 * `/.well-known/jwks.json` and `/.well-known/oauth-authorization-server`. It answers from the
 * gateway (forward phase: guard and limit stages of the route run first); other paths get 404.
 *
 * @example
 *   routes:
 *     - { id: oauth, path: /oauth/**, upstream: pets, stages: [{ type: oauth2_server }] }
 *     - { id: oauth-meta, path: /.well-known/**, upstream: pets, stages: [{ type: oauth2_server }] }
 */
export const oauth2ServerStage = defineStage({
  type: 'oauth2_server',
  phase: 'forward',
  options: oauth2ServerOptions,
  create(_options, deps) {
    const { services } = deps;
    if (deps.config.oauth === undefined) throw new Error('the oauth2_server stage needs the top-level oauth: section');
    return {
      name: 'oauth2_server',
      phase: 'forward',
      async handle(ctx) {
        const server = services.oauth;
        if (server === undefined) throw new RampartError('RAMPART_SERVICE_UNAVAILABLE', 'The authorization server is not running.', { headers: { 'retry-after': '5' } });
        if (!(await server.handle(ctx))) throw new RampartError('RAMPART_ROUTE_NOT_FOUND', `No OAuth endpoint at ${ctx.path.slice(0, 100)}.`);
      },
    };
  },
});
