/** A security decision or incident, recorded once per occurrence (audit log, metrics, alerts). */
export interface SecurityEvent {
  /** Dotted type, e.g. `auth.failure`, `request.denied`, `key.revoked`. */
  readonly type: string;
  readonly severity: 'info' | 'low' | 'medium' | 'high' | 'critical';
  /** Stage or component that decided. */
  readonly source: string;
  /** Error code for denials. */
  readonly code?: string;
  /** Detailed reason: for operators only, never sent to clients. Never contains secrets. */
  readonly reason?: string;
  readonly requestId?: string;
  readonly clientIp?: string;
  readonly consumer?: string;
  readonly route?: string;
  readonly method?: string;
  readonly path?: string;
  /** Extra structured data (never secrets). */
  readonly data?: Readonly<Record<string, unknown>>;
  /** Milliseconds since the epoch. */
  readonly time: number;
}

/** Receives events; implemented by the observe/ module (audit log, metrics, alerts). */
export type EventSink = (event: SecurityEvent) => void;
