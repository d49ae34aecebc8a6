import type { Logger } from 'pino';
import type { EventSink } from './events.js';
import type { TokenRevocations } from '../auth/revocation.js';
import type { OAuthServer } from '../oauth/server.js';

/**
 * Long-lived components shared by every stage of a running gateway: the logger, the event sink,
 * and (as later modules land) stores and counters. Built once at start, kept across config reloads.
 */
export interface Services {
  readonly logger: Logger;
  readonly emit: EventSink;
  /** Revoked token ids (OAuth server, RFC 7009); the jwt stage refuses them. Absent: no revocation list. */
  tokenRevocations?: TokenRevocations;
  /** The built-in OAuth 2.0 server, when the config has an `oauth:` section. */
  oauth?: OAuthServer;
}
