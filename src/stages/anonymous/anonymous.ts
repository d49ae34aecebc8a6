import { z } from 'zod';
import type { Identity } from '../../core/identity.js';
import { defineStage } from '../definition.js';

const anonymousOptions = z
  .object({
    type: z.literal('anonymous'),
    /** Consumer name given to unauthenticated requests (logs, limits, policies). */
    consumer: z.string().min(1).max(256).default('anonymous'),
    /** Roles the anonymous identity holds (for RBAC rules on public routes). */
    roles: z.array(z.string().min(1)).default([]),
    /** Scopes the anonymous identity holds. */
    scopes: z.array(z.string().min(1)).default([]),
  })
  .strict();

/**
 * `anonymous`: makes a route explicitly public. It runs after the route's other authentication
 * stages (the config refuses it anywhere but last), so a request that presents no credential gets
 * the anonymous identity, while one that presents a *wrong* credential is still refused with 401:
 * a bad token never silently downgrades to anonymous access.
 *
 * @example
 *   stages: [{ type: jwt, … }, { type: anonymous }]
 */
export const anonymousStage = defineStage({
  type: 'anonymous',
  phase: 'authenticate',
  options: anonymousOptions,
  create(options) {
    const identity: Identity = Object.freeze({
      consumer: options.consumer,
      roles: Object.freeze([...options.roles]),
      scopes: Object.freeze([...options.scopes]),
      method: 'anonymous',
    });
    return {
      name: 'anonymous',
      phase: 'authenticate',
      handle(ctx) {
        ctx.identity = identity;
      },
    };
  },
});
