import type { StageDefinition } from './definition.js';
import { corsStage } from './cors/cors.js';
import { jwtStage } from './jwt/jwt.js';
import { mtlsStage } from './mtls/mtls.js';
import { anonymousStage } from './anonymous/anonymous.js';
import { introspectionStage } from './introspection/introspection.js';
import { oauth2ServerStage } from './oauth2-server/oauth2-server.js';
import { rateLimitStage } from './rate-limit/rate-limit.js';
import { lockoutStage } from './rate-limit/lockout.js';
import { apiKeyStage } from './api-key/api-key.js';
import { openapiStage } from './openapi/openapi.js';
import { wafStage } from './waf/waf.js';
import { uploadStage } from './upload/upload.js';
import { authorizeStage } from './authorize/authorize.js';

/**
 * Every configurable stage type. A route's `stages` entries are validated against the union of
 * these option schemas (discriminated by `type`). Add a stage by adding its definition here.
 */
export const STAGE_DEFINITIONS = [
  corsStage,
  apiKeyStage,
  jwtStage,
  introspectionStage,
  mtlsStage,
  anonymousStage,
  rateLimitStage,
  lockoutStage,
  openapiStage,
  wafStage,
  uploadStage,
  authorizeStage,
  oauth2ServerStage,
] as const satisfies readonly StageDefinition[];

export const STAGES_BY_TYPE: ReadonlyMap<string, StageDefinition> = new Map(
  STAGE_DEFINITIONS.map((d) => [d.type, d as StageDefinition]),
);
